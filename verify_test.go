package efsync

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/efsync/efsync/kpi"
	"golang.org/x/sys/unix"
)

// corruptions damages a copy of a tree in every way verification must
// find, and returns the differences it must report, by path.
func corruptions(t *testing.T, tree string, files []string) map[string][]string {
	t.Helper()
	flip, chmod, touch, xattr, gone := files[0], files[1], files[2], files[3], files[4]
	p := filepath.Join(tree, flip)
	st, err := os.Stat(p)
	must(t, err)
	b, err := os.ReadFile(p)
	must(t, err)
	b[len(b)/2] ^= 0x40
	must(t, os.WriteFile(p, b, 0o644))
	must(t, os.Chtimes(p, st.ModTime(), st.ModTime())) // the mtime restored: only the data tells
	must(t, os.Chmod(filepath.Join(tree, chmod), 0o600))
	mark := time.Date(2019, 1, 1, 0, 0, 0, 1, time.UTC)
	must(t, os.Chtimes(filepath.Join(tree, touch), mark, mark))
	must(t, unix.Setxattr(filepath.Join(tree, xattr), "user.efsync-test", []byte("planted"), 0))
	must(t, os.Remove(filepath.Join(tree, gone)))
	must(t, os.WriteFile(filepath.Join(tree, "added"), []byte("not in the source"), 0o644))
	want := map[string][]string{flip: {"content"}, chmod: {"mode"}, touch: {"mtime"},
		xattr: {"xattrs"}, gone: {"missing"}, "added": {"extra"},
		".": {"mtime"}} // the delete and the add moved it
	if os.Geteuid() == 0 {
		owner := files[5]
		must(t, os.Lchown(filepath.Join(tree, owner), 4321, -1))
		want[owner] = []string{"owner", "group"} // itemized together, as the copier sets them
	}
	return want
}

// flatTree makes dir with n files of 64 KiB, f0 to f(n-1), and returns
// their names.
func flatTree(t *testing.T, dir string, n int) []string {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	var names []string
	for i := range n {
		name := "f" + string(rune('a'+i))
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(i + j*7)
		}
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		names = append(names, name)
	}
	return names
}

// TestVerifyTreeFindsEverything copies a tree exactly, finds nothing,
// then damages the copy: a flipped byte with its mtime restored, a mode,
// an mtime, an xattr, an owner, a deleted and an added file. Each is found
// and named, and nothing else.
func TestVerifyTreeFindsEverything(t *testing.T) {
	base := t.TempDir()
	src, tree := filepath.Join(base, "src"), filepath.Join(base, "tree")
	files := flatTree(t, src, 8)
	if _, err := Sync(context.Background(), src, tree); err != nil {
		t.Fatal(err)
	}
	r, err := VerifyTree(context.Background(), src, tree, VerifyOptions{})
	if err != nil || r.Status != kpi.StatusSuccess || r.Total != 0 || r.Checked < 8 {
		t.Fatalf("an exact copy: %v, %+v", err, r)
	}
	want := corruptions(t, tree, files)
	r, err = VerifyTree(context.Background(), src, tree, VerifyOptions{})
	if err != nil || r.Status != kpi.StatusPartial {
		t.Fatalf("a damaged copy: %v, %+v", err, r)
	}
	got := map[string][]string{}
	for _, d := range r.Differences {
		got[d.Path] = d.Kinds
	}
	for p, kinds := range want {
		if !slices.Equal(got[p], kinds) {
			t.Errorf("%s: found %q, want %q", p, got[p], kinds)
		}
	}
	for p, kinds := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: found %q, which was not damaged", p, kinds)
		}
	}
}
