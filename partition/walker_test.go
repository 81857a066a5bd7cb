package partition

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// view is what a test compares of an entry: the fields testtree.Scan
// records too.
type view struct {
	Type     testtree.Type
	Mode     testtree.Mode
	UID, GID uint32
	Size     int64
	Mtime    testtree.Nanos
	Target   string
	Rdev     uint64
	Links    string // the other paths of its inode, sorted, NUL-separated
}

// viewOfNode returns the view of a Snapshot's node.
func viewOfNode(n *testtree.Node) view {
	return view{Type: n.Type, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size,
		Mtime: n.Mtime, Target: n.Target, Rdev: n.Rdev, Links: strings.Join(n.Links, "\x00")}
}

// viewOf returns the views of entries, keyed by path, and the paths listed
// more than once.
func viewOf(entries []Entry) (map[string]view, []string) {
	m := map[string]view{}
	var dups []string
	groups := map[devIno][]string{}
	for _, e := range entries {
		if _, ok := m[e.Path]; ok {
			dups = append(dups, e.Path)
		}
		v := view{Type: typeOf(e.Mode), Mode: testtree.Mode(e.Mode & 0o7777), UID: e.UID, GID: e.GID,
			Mtime: testtree.Nanos(e.Mtime), Target: e.Target}
		switch v.Type {
		case testtree.File:
			v.Size = e.Size
		case testtree.Symlink:
			v.Mode = 0
		case testtree.CharDev, testtree.BlockDev:
			v.Rdev = e.Rdev
		}
		if e.linked() {
			groups[devIno{e.Dev, e.Ino}] = append(groups[devIno{e.Dev, e.Ino}], e.Path)
		}
		m[e.Path] = v
	}
	for _, g := range groups {
		slices.Sort(g)
		for _, p := range g {
			if len(g) > 1 {
				v := m[p]
				v.Links = strings.Join(slices.DeleteFunc(slices.Clone(g), func(o string) bool { return o == p }), "\x00")
				m[p] = v
			}
		}
	}
	return m, dups
}

// sameViews reports whether a and b are equal.
func sameViews(a, b map[string]view) bool {
	if len(a) != len(b) {
		return false
	}
	for p, va := range a {
		if vb, ok := b[p]; !ok || va != vb {
			return false
		}
	}
	return true
}

// checkAll checks that chunks list exactly the entries testtree.Scan finds
// under root, each once and none with an error.
func checkAll(t *testing.T, root string, chunks []Chunk) {
	t.Helper()
	want := scan(t, root)
	all := entries(chunks)
	got, dups := viewOf(all)
	if len(dups) > 0 {
		t.Errorf("%d paths listed more than once, such as %q", len(dups), dups[0])
	}
	if !sameViews(want, got) { // cmp.Diff alone takes seconds on 100k entries under -race
		t.Errorf("entries: Scan (-) vs Walker (+):\n%s", cmp.Diff(want, got))
	}
	for _, e := range all {
		if e.Err != nil {
			t.Errorf("error entry %q: %v", e.Path, e.Err)
		}
	}
}

var scans struct {
	mu    sync.Mutex
	byDir map[string]map[string]view
}

// scan returns the views of the entries testtree.Scan finds under root,
// kept for the next call: the shared 100k tree is scanned once.
func scan(t *testing.T, root string) map[string]view {
	t.Helper()
	scans.mu.Lock()
	defer scans.mu.Unlock()
	if v, ok := scans.byDir[root]; ok {
		return v
	}
	snap, err := testtree.Scan(context.Background(), root, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]view{}
	for p, n := range snap {
		want[p] = viewOfNode(n)
	}
	if scans.byDir == nil {
		scans.byDir = map[string]map[string]view{}
	}
	scans.byDir[root] = want
	return want
}

func TestWalkerListsEveryEntryOnce(t *testing.T) {
	tests := []struct {
		name string
		tree func(testing.TB) string
		opt  Options
	}{
		{"small/1 walker", func(tb testing.TB) string { return build(tb, small(1)) }, Options{Walkers: 1, ReadLinks: true}},
		{"small/16 walkers", func(tb testing.TB) string { return build(tb, small(2)) }, Options{Walkers: 16, ReadLinks: true}},
		{"small/godirwalk", func(tb testing.TB) string { return build(tb, small(3)) }, Options{Walkers: 4, ReadLinks: true, fs: godirwalkFS{}}},
		{"huge sparse", func(tb testing.TB) string { return build(tb, testtree.Small(4)) }, Options{Walkers: 3, ReadLinks: true}},
		{"100k/16 walkers", bigTree, Options{Walkers: 16, ReadLinks: true}},
		{"100k/godirwalk", bigTree, Options{Walkers: 8, ReadLinks: true, fs: godirwalkFS{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.tree(t)
			checkAll(t, root, walk(t, root, tt.opt))
		})
	}
}

func TestWalkersAgree(t *testing.T) {
	root := bigTree(t)
	one := entries(walk(t, root, Options{Walkers: 1}))
	many := entries(walk(t, root, Options{Walkers: 16}))
	if d := cmp.Diff(one, many, cmp.Comparer(func(a, b error) bool { return a == b })); d != "" {
		t.Errorf("1 walker (-) vs 16 walkers (+):\n%s", d)
	}
}

func TestLiveOrderParentsFirst(t *testing.T) {
	root := build(t, small(5))
	seen := map[string]bool{}
	for _, c := range walk(t, root, Options{Walkers: 8, MaxFiles: 7}) {
		for _, e := range c.Entries {
			if e.Path != "." && !seen[path.Dir(e.Path)] {
				t.Errorf("chunk %d: %q before its directory", c.ID, e.Path)
			}
			seen[e.Path] = true
		}
	}
}

func TestOneFileSystemStopsAtMountPoints(t *testing.T) {
	testenv.NeedRoot(t)
	root := build(t, small(6))
	mnt := filepath.Join(root, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("can't mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(mnt, "inside"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	all := entries(walk(t, root, Options{Walkers: 4, OneFileSystem: true}))
	i := slices.IndexFunc(all, func(e Entry) bool { return e.Path == "mnt" })
	if i < 0 || !all[i].IsDir() || all[i].Err != nil {
		t.Fatalf("mount point not listed as a directory")
	}
	if slices.ContainsFunc(all, func(e Entry) bool { return e.Path == "mnt/inside" }) {
		t.Error("OneFileSystem crossed into the tmpfs")
	}
	all = entries(walk(t, root, Options{Walkers: 4}))
	if !slices.ContainsFunc(all, func(e Entry) bool { return e.Path == "mnt/inside" }) {
		t.Error("without OneFileSystem, the tmpfs was not crawled")
	}
}
