package transfer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

// TestRemoveTree removes a tree with every shape testtree makes (modes
// that forbid writing, specials, deep paths, hard names), a flat
// directory of 1000 files, a symlink to a directory outside and a hard
// link to a file outside, and shows that the tree is gone, every entry
// counted, and what was outside untouched: no link followed, no inode
// changed.
func TestRemoveTree(t *testing.T) {
	base := testtree.TempDir(t)
	tree, outside := filepath.Join(base, "snap"), filepath.Join(base, "older")
	mkdirs(t, tree, outside)
	o := testtree.Small(5)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(tree); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, filepath.Join(tree, "flat"), filepath.Join(outside, "d"))
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(tree, "flat", fmt.Sprint(i)), nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	shared := filepath.Join(outside, "shared")
	if err := os.WriteFile(shared, []byte("an older snapshot's file"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "d", "keep"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(shared, filepath.Join(tree, "flat", "shared")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "d"), filepath.Join(tree, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "flat"), 0o555); err != nil {
		t.Fatal(err)
	}
	want := countEntries(t, tree)
	before := hashTree(t, outside)

	n, err := RemoveTree(context.Background(), tree, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tree); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the tree is still there: %v", err)
	}
	if n != want {
		t.Errorf("removed %d entries, want %d", n, want)
	}
	for _, d := range testtree.CompareSnapshots(before, hashTree(t, outside), testtree.CompareOptions{}) {
		if d.Path == "shared" && d.Field == "links" {
			continue // one link fewer: the one removed
		}
		t.Errorf("outside the tree: %s", d)
	}
}

// TestRemoveTreeCancelled cancels a removal before it starts: it fails
// with the context's error and leaves the tree, which a second call
// removes.
func TestRemoveTreeCancelled(t *testing.T) {
	tree := filepath.Join(testtree.TempDir(t), "snap")
	mkdirs(t, filepath.Join(tree, "a", "b"))
	if err := os.WriteFile(filepath.Join(tree, "a", "b", "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RemoveTree(ctx, tree, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled removal: %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(tree); err != nil {
		t.Fatalf("a cancelled removal removed the tree: %v", err)
	}
	if _, err := RemoveTree(context.Background(), tree, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tree); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the tree is still there: %v", err)
	}
}

// countEntries counts root and every entry under it.
func countEntries(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(root, func(string, fs.DirEntry, error) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}
