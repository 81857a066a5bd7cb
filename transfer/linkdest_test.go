package transfer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
)

// These tests judge Options.LinkDest at the file system: which inodes the
// destination shares with a reference tree, and whether the reference's
// files kept their mode, owner, mtime and content.

// linkTree is the source of the link-dest tests: plain files, a file with
// a user xattr, a hard-link group, and a symlink.
func linkTree() []testtree.Entry {
	x := faultFile("x", 3<<10, 4)
	x.Xattrs = map[string]string{"user.k": "v"}
	return []testtree.Entry{faultDir("."), faultDir("d"),
		faultFile("d/a", 10<<10, 1), faultFile("b", 70<<10, 2), faultFile("d/c", 0, 3), x,
		faultFile("g1", 5<<10, 5), {Path: "d/g2", Type: testtree.File, LinkOf: "g1"},
		{Path: "s", Type: testtree.Symlink, Target: "d/a", UID: -1, GID: -1, Mtime: faultTime}}
}

// linkFiles are linkTree's regular files.
var linkFiles = []string{"d/a", "b", "d/c", "x", "g1", "d/g2"}

// snapshotDirs returns a source tree built from linkTree, and a reference
// snapshot of it made by a plain sync, both in one new directory, which
// it returns too: the destinations go beside them, on one file system.
func snapshotDirs(t *testing.T) (base, src, ref string) {
	t.Helper()
	base = testtree.TempDir(t)
	src, ref = filepath.Join(base, "src"), filepath.Join(base, "ref")
	mkdirs(t, src, ref)
	buildTree(t, src, linkTree()...)
	mustSync(t, src, ref, Options{})
	return base, src, ref
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func mustSync(t *testing.T, src, dst string, opt Options) {
	t.Helper()
	if _, failed, err := syncTrees(t, src, dst, opt); err != nil || len(failed) > 0 {
		t.Fatalf("sync %s: %v, failed %q", dst, err, failed)
	}
}

// sameInode reports whether a and b are links to one inode.
func sameInode(t *testing.T, a, b string) bool {
	t.Helper()
	ia, err := os.Lstat(a)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := os.Lstat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(ia, ib)
}

// unchangedRef fails t unless the reference tree ref is exactly as the
// snapshot before shows it: every mode, owner, mtime, xattr and content.
func unchangedRef(t *testing.T, ref string, before testtree.Snapshot) {
	t.Helper()
	for _, d := range testtree.CompareSnapshots(before, hashTree(t, ref), testtree.CompareOptions{}) {
		t.Errorf("reference changed: %s", d)
	}
}

func TestLinkDestUnchanged(t *testing.T) {
	base, src, ref := snapshotDirs(t)
	before := hashTree(t, ref)
	dst := filepath.Join(base, "dst")
	mkdirs(t, dst)
	opt := Options{LinkDest: []string{ref}}
	for run := range 2 { // the second finds every link in place
		mustSync(t, src, dst, opt)
		for _, rel := range linkFiles {
			if !sameInode(t, filepath.Join(dst, rel), filepath.Join(ref, rel)) {
				t.Errorf("run %d: %s is not linked to the reference", run, rel)
			}
		}
		if sameInode(t, filepath.Join(dst, "s"), filepath.Join(ref, "s")) {
			t.Errorf("run %d: symlink s is linked; only regular files should be", run)
		}
		exact(t, src, dst, compareOpts())
		unchangedRef(t, ref, before)
	}
}

// TestLinkDestChanged changes one source file's metadata only: the
// destination gets a new inode for it, whether its name was absent or
// already linked to the reference by an earlier run, and the reference
// file stays as it was.
func TestLinkDestChanged(t *testing.T) {
	later := faultTime.Add(time.Second)
	tests := []struct {
		name   string
		file   string   // the file changed
		moved  []string // the files that must get a new inode
		root   bool
		change func(p string) error
	}{
		{name: "chmod", file: "x", change: func(p string) error { return os.Chmod(p, 0o600) }},
		{name: "chown", file: "x", root: true, change: func(p string) error { return os.Lchown(p, 1234, 4321) }},
		{name: "touch", file: "x", change: func(p string) error { return os.Chtimes(p, later, later) }},
		{name: "xattr", file: "x", change: func(p string) error { return syscall.Setxattr(p, "user.k", []byte("w"), 0) }},
		{name: "group chmod", file: "g1", moved: []string{"d/g2"}, change: func(p string) error { return os.Chmod(p, 0o640) }},
	}
	for _, tt := range tests {
		for _, linked := range []bool{false, true} {
			name := tt.name + "/fresh"
			if linked {
				name = tt.name + "/linked before"
			}
			t.Run(name, func(t *testing.T) {
				if tt.root && os.Geteuid() != 0 {
					t.Skip("chown needs root")
				}
				base, src, ref := snapshotDirs(t)
				dst := filepath.Join(base, "dst")
				mkdirs(t, dst)
				opt := Options{LinkDest: []string{ref}}
				if linked {
					mustSync(t, src, dst, opt)
				}
				before := hashTree(t, ref)
				if err := tt.change(filepath.Join(src, tt.file)); err != nil {
					t.Fatal(err)
				}
				moved := append([]string{tt.file}, tt.moved...)
				mustSync(t, src, dst, opt)
				for _, rel := range linkFiles {
					want := !slices.Contains(moved, rel)
					if got := sameInode(t, filepath.Join(dst, rel), filepath.Join(ref, rel)); got != want {
						t.Errorf("%s: linked to the reference = %v, want %v", rel, got, want)
					}
				}
				unchangedRef(t, ref, before)
				exact(t, src, dst, compareOpts())
			})
		}
	}
}

// TestLinkDestOrder gives two references: the first given that holds a
// file unchanged wins, as in rsync; a file unchanged in neither is copied.
func TestLinkDestOrder(t *testing.T) {
	base, src, older := snapshotDirs(t)
	newer := filepath.Join(base, "newer")
	mkdirs(t, newer)
	mustSync(t, src, newer, Options{})
	later := faultTime.Add(time.Minute)
	// b changed after the newer snapshot: the older one can't have it
	// either; d/a is unchanged in the older snapshot only.
	for _, p := range []string{filepath.Join(src, "b"), filepath.Join(newer, "d/a")} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(base, "dst")
	mkdirs(t, dst)
	mustSync(t, src, dst, Options{LinkDest: []string{newer, older}})
	for _, c := range []struct {
		rel, ref string
	}{{"d/c", newer}, {"x", newer}, {"g1", newer}, {"d/a", older}} {
		if !sameInode(t, filepath.Join(dst, c.rel), filepath.Join(c.ref, c.rel)) {
			t.Errorf("%s is not linked to %s", c.rel, c.ref)
		}
	}
	if sameInode(t, filepath.Join(dst, "d/a"), filepath.Join(newer, "d/a")) {
		t.Errorf("d/a is linked to the newer snapshot, where its mtime differs")
	}
	for _, ref := range []string{newer, older} {
		if sameInode(t, filepath.Join(dst, "b"), filepath.Join(ref, "b")) {
			t.Errorf("b is linked to %s, where its mtime differs", ref)
		}
	}
	exact(t, src, dst, compareOpts())
}

// TestLinkDestOtherMount puts the reference on another mount (tmpfs in
// /dev/shm): no link can reach it, so every file is copied, without error.
func TestLinkDestOtherMount(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "efsync-ref-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	base, src, _ := snapshotDirs(t)
	mustSync(t, src, shm, Options{})
	before := hashTree(t, shm)
	dst := filepath.Join(base, "dst")
	mkdirs(t, dst)
	mustSync(t, src, dst, Options{LinkDest: []string{shm}})
	for _, rel := range linkFiles {
		if fi, err := os.Lstat(filepath.Join(dst, rel)); err != nil {
			t.Fatal(err)
		} else if n := fi.Sys().(*syscall.Stat_t).Nlink; rel != "g1" && rel != "d/g2" && n != 1 {
			t.Errorf("%s has %d links, want 1", rel, n)
		}
	}
	unchangedRef(t, shm, before)
	exact(t, src, dst, compareOpts())
}

// TestLinkDestDryRun itemizes the links a run would make, "hf" like
// rsync -i, and the copy of a changed file, and writes nothing.
func TestLinkDestDryRun(t *testing.T) {
	base, src, ref := snapshotDirs(t)
	if err := os.Chmod(filepath.Join(src, "b"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(base, "dst")
	mkdirs(t, filepath.Join(dst, "d"))
	before := hashTree(t, dst)
	var mu sync.Mutex
	lines := map[string]string{}
	mustSync(t, src, dst, Options{DryRun: true, LinkDest: []string{ref}, Itemize: func(l string) {
		mu.Lock()
		defer mu.Unlock()
		flags, rel, _ := strings.Cut(l, " ")
		lines[rel] = flags
	}})
	for rel, want := range map[string]string{"d/a": "hf+++++++++", "x": "hf+++++++++", "b": ">f+++++++++"} {
		if lines[rel] != want {
			t.Errorf("%s itemized %q, want %q", rel, lines[rel], want)
		}
	}
	for _, d := range testtree.CompareSnapshots(before, hashTree(t, dst), testtree.CompareOptions{}) {
		t.Errorf("dry run changed the destination: %s", d)
	}
}

// TestLinkDestBadTree: a reference tree that is missing or not given by an
// absolute path stops New, before anything is touched.
func TestLinkDestBadTree(t *testing.T) {
	base := testtree.TempDir(t)
	for _, tt := range []struct{ name, ref string }{
		{"missing", filepath.Join(base, "nowhere")},
		{"relative", "ref"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(context.Background(), base, base, Options{LinkDest: []string{tt.ref}})
			if err == nil {
				c.Close()
				t.Fatalf("New accepted link-dest %q", tt.ref)
			}
			t.Logf("error: %v", err)
		})
	}
}
