package transfer

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/efsync/efsync/internal/testtree"
)

// TestCloneLinkDest changes a 64 MiB file after a snapshot of it was
// taken on XFS, and makes a new snapshot with LinkDest: the file can't be
// linked, so it is cloned from the reference. A change of metadata
// allocates next to nothing, a changed MiB about a MiB, where a copy
// would take 64; the reference's inode keeps its number, mode, owner,
// mtime, ctime and content; and the new snapshot is exact.
func TestCloneLinkDest(t *testing.T) {
	later := faultTime.Add(time.Second)
	tests := []struct {
		name   string
		root   bool
		change func(t *testing.T, p string)
		most   int64 // the bytes the new snapshot may allocate
	}{
		{name: "chmod", most: mib / 4, change: func(t *testing.T, p string) { must(t, os.Chmod(p, 0o600)) }},
		{name: "chown", root: true, most: mib / 4, change: func(t *testing.T, p string) { must(t, os.Lchown(p, 1234, 4321)) }},
		{name: "xattr", most: mib / 4, change: func(t *testing.T, p string) { must(t, syscall.Setxattr(p, "user.k", []byte("w"), 0)) }},
		{name: "touch", most: mib / 4, change: func(t *testing.T, p string) { must(t, os.Chtimes(p, later, later)) }},
		{name: "1 MiB changed", most: 2 * mib, change: func(t *testing.T, p string) { writeAt(t, p, -1, 16*mib, randomData(mib, 8)) }},
	}
	for _, tt := range tests {
		for _, linked := range []bool{false, true} {
			name := tt.name + "/fresh"
			if linked {
				name = tt.name + "/linked before"
			}
			t.Run(name, func(t *testing.T) {
				if tt.root && !testenv.Root() {
					t.Skip("chown needs root")
				}
				root := xfs(t)
				src, ref, dst := testtree.TempDir(t), filepath.Join(root, "ref"), filepath.Join(root, "dst")
				mkdirs(t, ref, dst)
				buildTree(t, src, append(linkTree(), faultFile("big", 64*mib, 6))...)
				mustSync(t, src, ref, Options{})
				opt := Options{LinkDest: []string{ref}}
				if linked {
					mustSync(t, src, dst, opt)
				}
				before, refBig := hashTree(t, ref), statOf(t, filepath.Join(ref, "big"))
				tt.change(t, filepath.Join(src, "big"))
				free := testenv.FreeBytes(t, root)
				mustSync(t, src, dst, opt)
				used := free - testenv.FreeBytes(t, root)
				t.Logf("%s of a 64 MiB file: the new snapshot used %d bytes", tt.name, used)
				if used > tt.most {
					t.Errorf("used %d bytes, want at most %d: blocks not shared with the reference", used, tt.most)
				}
				if sameInode(t, filepath.Join(dst, "big"), filepath.Join(ref, "big")) {
					t.Error("big is linked to the reference, which holds it changed")
				}
				if !sameInode(t, filepath.Join(dst, "d/a"), filepath.Join(ref, "d/a")) {
					t.Error("d/a, unchanged, is not linked to the reference")
				}
				now := statOf(t, filepath.Join(ref, "big"))
				// A name linked before loses its link to the reference:
				// that moves the reference's ctime, and only that.
				if now.Ino != refBig.Ino || now.Mtim != refBig.Mtim || (!linked && now.Ctim != refBig.Ctim) {
					t.Errorf("reference inode %d (ctime %v) became %d (ctime %v)", refBig.Ino, refBig.Ctim, now.Ino, now.Ctim)
				}
				unchangedRef(t, ref, before)
				exact(t, src, dst, compareOpts())
			})
		}
	}
}

// TestCloneLinkDestSmall changes a small file's content: below DeltaMin
// it is copied, not cloned and patched, and the reference keeps it.
func TestCloneLinkDestSmall(t *testing.T) {
	root := xfs(t)
	src, ref, dst := testtree.TempDir(t), filepath.Join(root, "ref"), filepath.Join(root, "dst")
	mkdirs(t, ref, dst)
	buildTree(t, src, linkTree()...)
	mustSync(t, src, ref, Options{})
	before := hashTree(t, ref)
	writeAt(t, filepath.Join(src, "b"), -1, 0, []byte("changed"))
	mustSync(t, src, dst, Options{LinkDest: []string{ref}})
	if sameInode(t, filepath.Join(dst, "b"), filepath.Join(ref, "b")) {
		t.Error("b is linked to the reference, which holds it changed")
	}
	unchangedRef(t, ref, before)
	exact(t, src, dst, compareOpts())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
