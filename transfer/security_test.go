package transfer

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

// The security tests seed the destination with symlinks that point outside
// it, into a bait tree beside it, and check that the copier never wrote,
// chmodded, chowned, set xattrs or times on, created in or deleted from the
// bait tree. Each test lays out base/{src,dst,outside}.

// baitTime is the mtime of the bait files and of the source files that have
// their names, sizes and content: a copier that followed a planted link
// would find the bait up to date and take the metadata-only path.
var baitTime = time.Date(2021, 1, 2, 3, 4, 5, 123456789, time.UTC)

// secOwner returns uid as an entry's owner when the process can set it, and
// -1 (keep) otherwise.
func secOwner(uid int) int {
	if os.Geteuid() != 0 {
		return -1
	}
	return uid
}

// securitySource is the source tree. Its files under d, a/b/c and at the
// top have the bait's names, sizes, content and mtimes, but not its modes,
// owners or xattrs; its symlinks d/ln and abs point at out/f.
func securitySource(out string) *testtree.Tree {
	file := func(p string, size int64, seed uint64) testtree.Entry {
		return testtree.Entry{Path: p, Type: testtree.File, Mode: 0o644, UID: secOwner(1000), GID: secOwner(1000),
			Mtime: baitTime, Size: size, Seed: seed, Xattrs: map[string]string{"user.src": p}}
	}
	dir := func(p string, mode uint32) testtree.Entry {
		return testtree.Entry{Path: p, Type: testtree.Dir, Mode: mode, UID: secOwner(1000), GID: secOwner(1000),
			Mtime: baitTime.Add(time.Hour), Xattrs: map[string]string{"user.src": p}}
	}
	link := func(p, target string) testtree.Entry {
		return testtree.Entry{Path: p, Type: testtree.Symlink, Target: target, UID: secOwner(1002), GID: secOwner(1002), Mtime: baitTime}
	}
	return &testtree.Tree{Entries: []testtree.Entry{
		dir(".", 0o755),
		dir("d", 0o755),
		file("d/f", 100, 1),
		file("d/g", 200, 2),
		dir("d/sub", 0o755),
		file("d/sub/h", 50, 3),
		file("d/new", 10, 9),
		{Path: "d/fifo", Type: testtree.Fifo, Mode: 0o644, UID: -1, GID: -1, Mtime: baitTime},
		link("d/ln", out+"/f"),
		dir("a", 0o755),
		dir("a/b", 0o755),
		dir("a/b/c", 0o755),
		file("a/b/c/x", 30, 4),
		file("a/b/c/y", 30, 5),
		file("top", 100, 1),
		file("hl1", 100, 1),
		{Path: "d/hl2", Type: testtree.File, LinkOf: "hl1"},
		dir("newdir", 0o755),
		file("newdir/k", 10, 8),
		link("abs", out+"/f"),
	}}
}

// baitTree is the tree outside the destination. Its names mirror the
// source's d (f, g, sub/h), a (b/c/x) and a/b (c/x), so that a followed
// link lands on an entry the copier would update.
func baitTree() *testtree.Tree {
	bait := map[string]string{"user.bait": "do not touch"}
	file := func(p string, size int64, seed uint64) testtree.Entry {
		return testtree.Entry{Path: p, Type: testtree.File, Mode: 0o600, UID: secOwner(4321), GID: secOwner(4321),
			Mtime: baitTime, Size: size, Seed: seed, Xattrs: bait}
	}
	dir := func(p string) testtree.Entry {
		return testtree.Entry{Path: p, Type: testtree.Dir, Mode: 0o770, UID: secOwner(4321), GID: secOwner(4321),
			Mtime: baitTime, Xattrs: bait}
	}
	return &testtree.Tree{Entries: []testtree.Entry{
		dir("."),
		file("f", 100, 1),
		file("g", 200, 2),
		dir("sub"),
		file("sub/h", 50, 3),
		dir("b"),
		dir("b/c"),
		file("b/c/x", 30, 4),
		file("b/c/y", 30, 5),
		dir("c"),
		file("c/x", 30, 4),
		dir("keep"),
		file("keep/file", 10, 7),
	}}
}

// plant is one entry put into the destination: a symlink to target, in
// which "$OUT" stands for the bait tree's absolute path, or a directory
// when target is "".
type plant struct{ path, target string }

func TestSecurityPlantedSymlinks(t *testing.T) {
	tests := []struct {
		name   string
		plants []plant
		// deleteOnly: the planted entries are not in the source, so only
		// a run with Delete makes the copy exact.
		deleteOnly bool
	}{
		{name: "directory", plants: []plant{{"d", "$OUT"}}},
		{name: "directory relative", plants: []plant{{"d", "../outside"}}},
		{name: "subdirectory", plants: []plant{{"d/sub", "$OUT/sub"}}},
		{name: "file", plants: []plant{{"d/f", "$OUT/f"}, {"top", "$OUT/f"}, {"d/g", "../../outside/g"}}},
		{name: "file of another size", plants: []plant{{"d/f", "$OUT/g"}, {"a/b/c/x", "$OUT/f"}}},
		{name: "parent", plants: []plant{{"a", "$OUT"}}},
		{name: "middle parent", plants: []plant{{"a/b", "$OUT"}}},
		{name: "parent relative", plants: []plant{{"a/b", "../../outside"}}},
		{name: "dangling", plants: []plant{{"d/new", "$OUT/new"}, {"newdir", "$OUT/newdir"},
			{"d/fifo", "$OUT/fifo"}, {"d/sub/h", "../../../escaped"}}},
		{name: "hard links", plants: []plant{{"hl1", "$OUT/f"}, {"d/hl2", "$OUT/f"}}},
		// The same target as the source's: only the link's own owner and
		// mtime differ, and setting them must not follow it.
		{name: "symlink metadata", plants: []plant{{"d/ln", "$OUT/f"}, {"abs", "$OUT/f"}}},
		{name: "delete", deleteOnly: true, plants: []plant{{"extra", "$OUT"}, {"extra-rel", "../outside"},
			{"d/extra", "$OUT/f"}, {"xdir", ""}, {"xdir/ln", "$OUT"}, {"xdir/sub", ""}, {"xdir/sub/ln", "$OUT/sub"}}},
	}
	modes := []struct {
		name string
		opt  Options
	}{
		{"copy", Options{}},
		{"delete", Options{Delete: true}},
		{"dry run", Options{DryRun: true, Delete: true}},
	}
	for _, tt := range tests {
		for _, m := range modes {
			if tt.deleteOnly && !m.opt.Delete {
				continue
			}
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				base := testtree.TempDir(t)
				src, dst, out := securityDirs(t, base)
				if _, err := securitySource(out).Build(src); err != nil {
					t.Fatal(err)
				}
				if _, err := baitTree().Build(out); err != nil {
					t.Fatal(err)
				}
				if _, failed, err := syncTrees(t, src, dst, Options{}); err != nil || len(failed) > 0 {
					t.Fatalf("first sync: %v, failed %q", err, failed)
				}
				plantAll(t, dst, out, tt.plants)
				before := observeOutside(t, base, out)
				var dstBefore testtree.Snapshot
				if m.opt.DryRun {
					dstBefore = secScan(t, dst)
				}

				_, failed, err := syncTrees(t, src, dst, m.opt)
				before.check(t, true)
				if err != nil || len(failed) > 0 {
					t.Fatalf("sync: %v, failed %q", err, failed)
				}
				if m.opt.DryRun {
					for _, d := range testtree.CompareSnapshots(dstBefore, secScan(t, dst), testtree.CompareOptions{}) {
						t.Errorf("dry run changed the destination: %s", d)
					}
					return
				}
				exact(t, src, dst, compareOpts())
			})
		}
	}
}

// securityDirs makes base/src, base/dst and base/outside.
func securityDirs(t *testing.T, base string) (src, dst, out string) {
	t.Helper()
	src, dst, out = filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "outside")
	for _, d := range []string{src, dst, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return src, dst, out
}

// plantAll replaces each plant's path in dst, in order, through an os.Root,
// so that planting itself can't reach outside.
func plantAll(t *testing.T, dst, out string, plants []plant) {
	t.Helper()
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, p := range plants {
		if err := root.RemoveAll(p.path); err != nil {
			t.Fatal(err)
		}
		if p.target == "" {
			err = root.Mkdir(p.path, 0o700)
		} else {
			err = root.Symlink(strings.ReplaceAll(p.target, "$OUT", out), p.path)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func secScan(t *testing.T, root string) testtree.Snapshot {
	t.Helper()
	s, err := testtree.Scan(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outsideState is what must not change outside the destination: the bait
// tree (types, content, modes, owners, xattrs, mtimes, links), every bait
// entry's ctime (which chmod, chown, xattr and link changes move even when
// they put back the same value), and the names in the base directory.
type outsideState struct {
	base, out string
	snap      testtree.Snapshot
	ctimes    map[string]unix.Timespec
	names     []string
}

func observeOutside(t *testing.T, base, out string) *outsideState {
	t.Helper()
	s := &outsideState{base: base, out: out, snap: secScan(t, out)}
	s.ctimes = secCtimes(t, out, s.snap)
	s.names = secNames(t, base)
	return s
}

// check fails t for every way the outside differs from s. Without hash it
// compares no content: a write would still move the mtime and the ctime.
func (s *outsideState) check(t *testing.T, hash bool) {
	t.Helper()
	now, err := testtree.Scan(context.Background(), s.out, hash)
	if err != nil {
		t.Fatal(err)
	}
	want := s.snap
	if !hash {
		want = make(testtree.Snapshot, len(s.snap))
		for rel, n := range s.snap {
			c := *n
			c.Hash = ""
			want[rel] = &c
		}
	}
	for _, d := range testtree.CompareSnapshots(want, now, testtree.CompareOptions{}) {
		t.Errorf("outside the destination: %s", d)
	}
	for rel, c := range secCtimes(t, s.out, now) {
		if old, ok := s.ctimes[rel]; ok && old != c {
			t.Errorf("outside the destination: %s: ctime changed: %v → %v", rel,
				time.Unix(old.Unix()), time.Unix(c.Unix()))
		}
	}
	if names := secNames(t, s.base); !slices.Equal(names, s.names) {
		t.Errorf("beside the destination: names %q, want %q", names, s.names)
	}
}

func secCtimes(t *testing.T, root string, snap testtree.Snapshot) map[string]unix.Timespec {
	t.Helper()
	m := make(map[string]unix.Timespec, len(snap))
	for rel := range snap {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, filepath.FromSlash(rel)), &st); err != nil {
			t.Fatal(err)
		}
		m[rel] = st.Ctim
	}
	return m
}

func secNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSecuritySwapAfterCheck swaps a symlink in at the worst moment: after
// the copier found the destination file up to date but for its mode (and,
// as root, its owner), and before it sets them by name. A source behind
// latencyfs holds the copier there: reading the source file's xattrs, which
// comes between the two, waits two seconds. The copier must fail the entry
// rather than follow the link.
func TestSecuritySwapAfterCheck(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst, out := securityDirs(t, base)
	tree := &testtree.Tree{Entries: []testtree.Entry{
		{Path: ".", Type: testtree.Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: baitTime},
		{Path: "d", Type: testtree.Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: baitTime},
		{Path: "d/f", Type: testtree.File, Mode: 0o644, UID: -1, GID: -1, Mtime: baitTime, Size: 100, Seed: 1},
	}}
	if _, err := tree.Build(src); err != nil {
		t.Fatal(err)
	}
	if _, err := baitTree().Build(out); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, src, latencyfs.Options{})
	if _, failed, err := syncTrees(t, m.Dir(), dst, Options{}); err != nil || len(failed) > 0 {
		t.Fatalf("first sync: %v, failed %q", err, failed)
	}
	// Metadata only: the data, size and mtime stay.
	if err := os.Chmod(filepath.Join(src, "d/f"), 0o640); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(filepath.Join(src, "d/f"), 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	before := observeOutside(t, base, out)
	c, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	// The copier lists the xattrs of ".", "d" and "d/f", in that order of
	// start; only the last waits.
	lists := c.Ops["listxattr"] + 3
	if err := m.SetFaults([]latencyfs.Fault{{Op: "listxattr", Path: "d/f", Delay: 2 * time.Second, Times: 1}}); err != nil {
		t.Fatal(err)
	}
	swapped := make(chan error, 1)
	go func() { swapped <- swapWhen(m, lists, dst, "d/f", out+"/f") }()

	_, failed, err := syncTrees(t, m.Dir(), dst, Options{})
	if err := <-swapped; err != nil {
		t.Fatal(err)
	}
	before.check(t, true)
	// The copier saw the link only when it set the metadata: the swap
	// landed in the window.
	if err != nil || !slices.Equal(failed, []string{"d/f"}) {
		t.Errorf("sync: %v, failed %q; want d/f failed", err, failed)
	}
	if _, failed, err := syncTrees(t, m.Dir(), dst, Options{}); err != nil || len(failed) > 0 {
		t.Fatalf("clean sync: %v, failed %q", err, failed)
	}
	exact(t, src, dst, compareOpts())
}

// swapWhen waits until m counted lists listxattr calls, then renames a
// symlink to target over rel in dst.
func swapWhen(m *latencyfs.Mount, lists int64, dst, rel, target string) error {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c, err := m.Counts()
		if err != nil {
			return err
		}
		if c.Ops["listxattr"] >= lists {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the copier never listed the xattrs of %s (%d of %d calls)", rel, c.Ops["listxattr"], lists)
		}
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	tmp := rel + ".swap"
	if err := root.Symlink(target, tmp); err != nil {
		return err
	}
	return root.Rename(tmp, rel)
}

// TestSecuritySwapRace runs syncs while attackers keep replacing the
// destination's files and directories with symlinks into a bait tree that
// mirrors the source (same names, sizes, content and mtimes; other modes,
// owners and xattrs). The attacked syncs may fail entries, but must not
// touch the bait; a sync without attackers then makes an exact copy.
func TestSecuritySwapRace(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst, out := securityDirs(t, base)
	plan := testtree.Plan(testtree.Large(41, 3000))
	for _, d := range []string{src, out} {
		if _, err := plan.Build(d); err != nil {
			t.Fatal(err)
		}
	}
	secBait(t, out)
	// Hashing the bait is slow under -race: it is checked in full at the
	// end, and without content (mtimes and ctimes still show a write)
	// after each attacked sync.
	before := observeOutside(t, base, out)

	// Round 1 creates everything; round 2, after a clean sync, updates the
	// metadata of every file and the content of some.
	for round := 1; round <= 2; round++ {
		if round == 2 {
			secChmodFiles(t, src)
			if _, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 41, Percent: 10, AppendSize: 4 << 10}); err != nil {
				t.Fatal(err)
			}
		}
		names, err := testtree.Scan(context.Background(), src, false)
		if err != nil {
			t.Fatal(err)
		}
		planted := attack(t, dst, out, names, func() {
			rep, failed, err := syncTrees(t, src, dst, Options{Delete: true})
			t.Logf("round %d, attacked sync: err %v, %d entries failed, files %+v", round, err, len(failed), rep.Files)
		})
		t.Logf("round %d: attackers planted %d symlinks", round, planted)
		if planted == 0 {
			t.Errorf("round %d: the attackers planted nothing", round)
		}
		before.check(t, false)
		if t.Failed() {
			t.FailNow()
		}

		if rep, failed, err := syncTrees(t, src, dst, Options{Delete: true}); err != nil || len(failed) > 0 {
			t.Fatalf("round %d, clean sync: %v, failed %q: %+v", round, err, failed, rep.Errors.First)
		}
		exact(t, src, dst, compareOpts())
	}
	before.check(t, true)
}

// secBait makes every entry of the bait tree differ from the source in
// mode, owner (as root) and xattrs, keeping names, sizes, content and
// mtimes: a copier that followed a link into it would change it.
func secBait(t *testing.T, out string) {
	t.Helper()
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if os.Geteuid() == 0 {
			if err := unix.Lchown(p, 4321, 4321); err != nil {
				return &os.PathError{Op: "chown", Path: p, Err: err}
			}
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		mode := uint32(0o664)
		if d.IsDir() {
			mode = 0o775
		}
		// Mode first: a user.* xattr needs write permission.
		if err := unix.Chmod(p, mode); err != nil {
			return &os.PathError{Op: "chmod", Path: p, Err: err}
		}
		if err := unix.Lsetxattr(p, "user.bait", []byte("do not touch"), 0); err != nil {
			return &os.PathError{Op: "setxattr", Path: p, Err: err}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// secChmodFiles flips the other-read bit of every regular file under root
// and makes it writable by its owner (Mutate's xattr change needs that
// without root), so that a sync has a metadata-only update for each.
func secChmodFiles(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode().Perm()^0o004|0o200)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// attackers is how many goroutines swap symlinks in at once.
const attackers = 2

// attack runs f while attackers replace entries of dst named in snap with
// symlinks into out, and returns how many symlinks they planted.
func attack(t *testing.T, dst, out string, snap testtree.Snapshot, f func()) int64 {
	t.Helper()
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var dirs, files []string
	for rel, n := range snap {
		switch {
		case rel == ".":
		case n.Type == testtree.Dir:
			dirs = append(dirs, rel)
		default:
			files = append(files, rel)
		}
	}
	slices.Sort(dirs)
	slices.Sort(files)
	var planted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attackers {
		a := &attacker{root: root, out: out, dirs: dirs, files: files, rng: rand.New(rand.NewPCG(uint64(i), 7)), id: i}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if a.swap() {
					planted.Add(1)
				}
			}
		})
	}
	f()
	close(stop)
	wg.Wait()
	return planted.Load()
}

// attacker replaces destination entries with symlinks into out. It works
// through an os.Root, so that its own calls can't follow its links out.
type attacker struct {
	root        *os.Root
	out         string
	dirs, files []string
	rng         *rand.Rand
	id, n       int
}

// swap replaces one random entry: a directory by removing it and making a
// symlink, anything else by renaming a symlink over it.
func (a *attacker) swap() bool {
	a.n++
	isDir := a.rng.IntN(4) == 0
	var p string
	if isDir {
		p = a.dirs[a.rng.IntN(len(a.dirs))]
	} else {
		p = a.files[a.rng.IntN(len(a.files))]
	}
	var target string
	switch a.rng.IntN(4) {
	case 0: // the bait's twin of p
		target = a.out + "/" + p
	case 1: // the same, relative
		target = strings.Repeat("../", strings.Count(p, "/")+1) + "outside/" + p
	case 2:
		target = a.out
	default: // dangling: following it would create the bait's new name
		target = fmt.Sprintf("%s/new-%d-%d", a.out, a.id, a.n)
	}
	if isDir {
		if err := a.root.RemoveAll(p); err != nil {
			return false
		}
		return a.root.Symlink(target, p) == nil
	}
	tmp := path.Join(path.Dir(p), fmt.Sprintf("attack-%d-%d", a.id, a.n))
	if err := a.root.Symlink(target, tmp); err != nil {
		return false
	}
	if err := a.root.Rename(tmp, p); err != nil {
		a.root.Remove(tmp)
		return false
	}
	return true
}
