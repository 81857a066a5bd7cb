package testtree

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TempDir returns a new temporary directory for a tree. Unlike tb.TempDir, it
// is removed at the end of the test even when a tree in it has read-only
// directories and the test does not run as root.
func TempDir(tb testing.TB) string {
	tb.Helper()
	d := tb.TempDir()
	// Cleanups run last-first: this one runs before TempDir's RemoveAll.
	tb.Cleanup(func() { MakeWritable(d) })
	return d
}

// MakeWritable gives the owner write and search permission on every
// directory under root, so that the tree can be removed. Errors are
// ignored: it is best effort before a RemoveAll.
func MakeWritable(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o700 != 0o700 {
				_ = os.Chmod(p, info.Mode().Perm()|0o700)
			}
		}
		return nil
	})
}
