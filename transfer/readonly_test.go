package transfer

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

// TestXattrsOfReadOnlyFile changes only the xattrs (and maybe the mode) of a
// source file whose copy is read-only. Without privilege, setting or
// removing a user.* xattr needs write permission on the file, so the
// metadata-only update must make the copy writable first. As root it
// passes trivially; the unprivileged run is the one that counts.
func TestXattrsOfReadOnlyFile(t *testing.T) {
	mtime := time.Date(2022, 3, 4, 5, 6, 7, 890123456, time.UTC)
	tests := []struct {
		name       string
		mode       uint32            // of the source file at first
		before     map[string]string // its xattrs at first
		after      map[string]string // its xattrs for the second sync
		secondMode uint32            // its mode for the second sync
	}{
		{name: "add", mode: 0o444, after: map[string]string{"user.new": "1"}, secondMode: 0o444},
		{name: "remove", mode: 0o444, before: map[string]string{"user.old": "1"}, secondMode: 0o444},
		{name: "change", mode: 0o400, before: map[string]string{"user.x": "1"}, after: map[string]string{"user.x": "2"}, secondMode: 0o400},
		{name: "change and chmod", mode: 0o440, before: map[string]string{"user.x": "1"}, after: map[string]string{"user.x": "2"}, secondMode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := testtree.TempDir(t), testtree.TempDir(t)
			tree := &testtree.Tree{Entries: []testtree.Entry{
				{Path: ".", Type: testtree.Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: mtime},
				{Path: "f", Type: testtree.File, Mode: tt.mode, UID: -1, GID: -1, Mtime: mtime, Size: 10, Seed: 1, Xattrs: tt.before},
			}}
			if _, err := tree.Build(src); err != nil {
				t.Fatal(err)
			}
			if _, failed, err := syncTrees(t, src, dst, Options{}); err != nil || len(failed) > 0 {
				t.Fatalf("first sync: %v, failed %q", err, failed)
			}
			setXattrs(t, filepath.Join(src, "f"), tt.before, tt.after, tt.secondMode)
			rep, failed, err := syncTrees(t, src, dst, Options{})
			if err != nil || len(failed) > 0 {
				t.Fatalf("second sync: %v, failed %q: %+v", err, failed, rep.Errors)
			}
			if rep.Files.MetadataOnly != 1 || rep.Files.Created+rep.Files.Updated != 0 {
				t.Errorf("files %+v; want f updated in its metadata only", rep.Files)
			}
			exact(t, src, dst, compareOpts())
		})
	}
}

// setXattrs replaces the user xattrs have of the file p with want and gives
// it mode, keeping its mtime (neither call moves it).
func setXattrs(t *testing.T, p string, have, want map[string]string, mode uint32) {
	t.Helper()
	if err := unix.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	for name := range have {
		if err := unix.Removexattr(p, name); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range want {
		if err := unix.Setxattr(p, name, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
