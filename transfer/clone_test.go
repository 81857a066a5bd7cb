package transfer

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// These tests run the destination on a loop-mounted XFS, which clones
// files, and judge at the file system: free bytes before and after
// (statfs, after syncfs), inode numbers, ctimes and content hashes.

const mib = 1 << 20

// xfs returns the root of a new XFS file system with reflinks.
func xfs(t *testing.T) string {
	t.Helper()
	return testenv.LoopFS(t, "xfs", 1<<30)
}

// statOf returns the lstat of name.
func statOf(t *testing.T, name string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// link makes new a hard link to old, creating its directory.
func link(t *testing.T, old, new string) {
	t.Helper()
	mkdirs(t, filepath.Dir(new))
	if err := os.Link(old, new); err != nil {
		t.Fatal(err)
	}
}

func TestProbeClone(t *testing.T) {
	dir := xfs(t)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !probeClone(fd) {
		t.Error("probeClone says XFS with reflink=1 can't clone")
	}
	tmp, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tmp)
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(tmp, &sfs); err == nil && (sfs.Type == unix.EXT4_SUPER_MAGIC || sfs.Type == unix.TMPFS_MAGIC) && probeClone(tmp) {
		t.Error("probeClone says ext4 or tmpfs can clone")
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("the probe left %d entries behind", len(names))
	}
}

// TestCloneDelta changes 1 MiB of a 64 MiB file and syncs it with
// InPlace onto XFS: the destination gets a clone of its old copy with
// the changed blocks rewritten, so it allocates about 1 MiB, under a new
// inode renamed into place (atomic, so never marked Dirty). An older
// snapshot's name on the old inode keeps it as it was.
func TestCloneDelta(t *testing.T) {
	for _, older := range []bool{false, true} {
		name := "one link"
		if older {
			name = "older snapshot's link"
		}
		t.Run(name, func(t *testing.T) {
			root := xfs(t)
			src, dst := testtree.TempDir(t), filepath.Join(root, "dst")
			mkdirs(t, dst)
			big := filepath.Join(src, "big")
			writeAt(t, big, 64*mib, 0, randomData(64*mib, 1))
			var dirty atomic.Int64
			opt := Options{ContentOptions: ContentOptions{InPlace: true, Dirty: func(string) error { dirty.Add(1); return nil }}}
			mustSync(t, src, dst, opt)
			oldName := filepath.Join(root, "older/big")
			if older {
				link(t, filepath.Join(dst, "big"), oldName)
			}
			old, oldHash := statOf(t, filepath.Join(dst, "big")), fileHash(t, filepath.Join(dst, "big"))

			writeAt(t, big, -1, 32*mib, randomData(mib, 2))
			free := testenv.FreeBytes(t, root)
			mustSync(t, src, dst, opt)
			used := free - testenv.FreeBytes(t, root)
			t.Logf("1 MiB changed in 64 MiB: the destination's file system used %d bytes", used)
			if used > 2*mib {
				t.Errorf("used %d bytes for 1 MiB changed, want at most 2 MiB: blocks not shared", used)
			}
			if older && used < mib/2 {
				t.Errorf("used %d bytes, want about the 1 MiB changed while the old inode lives", used)
			}
			if now := statOf(t, filepath.Join(dst, "big")); now.Ino == old.Ino {
				t.Errorf("inode %d written in place, want a new one renamed over it", old.Ino)
			}
			if n := dirty.Load(); n != 0 {
				t.Errorf("Dirty called %d times for an atomic copy", n)
			}
			if older {
				was := statOf(t, oldName)
				// Its ctime moves: it lost a link.
				if was.Ino != old.Ino || was.Mtim != old.Mtim || was.Mode != old.Mode || was.Nlink != 1 {
					t.Errorf("older snapshot's inode %d (mode %o, mtime %v) became %d (mode %o, mtime %v, %d links)",
						old.Ino, old.Mode, old.Mtim, was.Ino, was.Mode, was.Mtim, was.Nlink)
				}
				if fileHash(t, oldName) != oldHash {
					t.Error("older snapshot's content changed")
				}
			}
			exact(t, src, dst, compareOpts())
		})
	}
}

// TestCloneDeltaGroup changes a hard-link group's content, whose
// destination inode an older snapshot also holds: InPlace on XFS gives
// the group a new inode, shared by both members, and leaves the old one.
func TestCloneDeltaGroup(t *testing.T) {
	root := xfs(t)
	src, dst := testtree.TempDir(t), filepath.Join(root, "dst")
	mkdirs(t, dst)
	buildTree(t, src, faultDir("."), faultFile("g1", 8*mib, 1), testtree.Entry{Path: "g2", Type: testtree.File, LinkOf: "g1"})
	opt := Options{ContentOptions: ContentOptions{InPlace: true}}
	mustSync(t, src, dst, opt)
	link(t, filepath.Join(dst, "g1"), filepath.Join(root, "older/g1"))
	old, oldHash := statOf(t, filepath.Join(dst, "g1")), fileHash(t, filepath.Join(dst, "g1"))

	writeAt(t, filepath.Join(src, "g1"), -1, 4*mib, randomData(mib, 9))
	free := testenv.FreeBytes(t, root)
	mustSync(t, src, dst, opt)
	t.Logf("1 MiB changed in an 8 MiB group: %d bytes used", free-testenv.FreeBytes(t, root))
	if used := free - testenv.FreeBytes(t, root); used > 2*mib {
		t.Errorf("used %d bytes for 1 MiB changed, want at most 2 MiB", used)
	}
	g1, g2 := statOf(t, filepath.Join(dst, "g1")), statOf(t, filepath.Join(dst, "g2"))
	if g1.Ino != g2.Ino || g1.Ino == old.Ino || g1.Nlink != 2 {
		t.Errorf("g1 inode %d, g2 %d (%d links); want one new inode with 2 links, not %d", g1.Ino, g2.Ino, g1.Nlink, old.Ino)
	}
	if was := statOf(t, filepath.Join(root, "older/g1")); was.Ino != old.Ino || was.Mtim != old.Mtim || was.Nlink != 1 {
		t.Errorf("older snapshot's inode %d became %d (%d links), mtime %v → %v", old.Ino, was.Ino, was.Nlink, old.Mtim, was.Mtim)
	}
	if fileHash(t, filepath.Join(root, "older/g1")) != oldHash {
		t.Error("older snapshot's content changed")
	}
	exact(t, src, dst, compareOpts())
}

// TestCloneFallsBack puts a tmpfs under the XFS destination, which the
// probe said clones: the file there can't be cloned, and is written in
// place instead, exactly.
func TestCloneFallsBack(t *testing.T) {
	root := xfs(t)
	src, dst := testtree.TempDir(t), filepath.Join(root, "dst")
	sub := filepath.Join(dst, "sub")
	mkdirs(t, sub, filepath.Join(src, "sub"))
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=64m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(sub, 0) })
	f := filepath.Join(src, "sub/f")
	writeAt(t, f, 8*mib, 0, randomData(8*mib, 3))
	opt := Options{ContentOptions: ContentOptions{InPlace: true}}
	mustSync(t, src, dst, opt)
	old := statOf(t, filepath.Join(sub, "f"))
	writeAt(t, f, -1, mib, randomData(mib, 4))
	mustSync(t, src, dst, opt)
	if now := statOf(t, filepath.Join(sub, "f")); now.Ino != old.Ino {
		t.Errorf("inode %d became %d: not written in place after the clone failed", old.Ino, now.Ino)
	}
	exact(t, src, dst, compareOpts())
}

func TestCloneUseFor(t *testing.T) {
	const mtime = 1_700_000_000_123_456_789
	reg := func(size int64, mtime int64) *unix.Stat_t {
		return &unix.Stat_t{Mode: unix.S_IFREG | 0o644, Size: size, Mtim: unix.NsecToTimespec(mtime)}
	}
	entry := func(size int64) *partition.Entry {
		return &partition.Entry{Mode: unix.S_IFREG | 0o600, Size: size, Mtime: mtime}
	}
	tests := []struct {
		name    string
		e       *partition.Entry
		st      *unix.Stat_t
		opt     Options
		recheck bool
		want    cloneUse
	}{
		{name: "metadata only", e: entry(10), st: reg(10, mtime), want: cloneOnly},
		{name: "metadata only, big", e: entry(64 * mib), st: reg(64*mib, mtime), want: cloneOnly},
		{name: "touched, big", e: entry(64 * mib), st: reg(64*mib, mtime+1), want: clonePatch},
		{name: "touched, small", e: entry(10), st: reg(10, mtime+1), want: cloneNot},
		{name: "resized, big", e: entry(64 * mib), st: reg(63*mib, mtime), want: clonePatch},
		{name: "within MtimeWindow", e: entry(10), st: reg(10, mtime+1), opt: Options{MtimeWindow: time.Second}, want: cloneOnly},
		{name: "Checksum, big", e: entry(64 * mib), st: reg(64*mib, mtime), opt: Options{ContentOptions: ContentOptions{Checksum: true}}, want: clonePatch},
		{name: "IgnoreTimes, small", e: entry(10), st: reg(10, mtime), opt: Options{ContentOptions: ContentOptions{IgnoreTimes: true}}, want: cloneNot},
		{name: "Recheck, big", e: entry(64 * mib), st: reg(64*mib, mtime), recheck: true, want: clonePatch},
		{name: "basis a symlink", e: entry(10), st: &unix.Stat_t{Mode: unix.S_IFLNK | 0o777, Size: 10, Mtim: unix.NsecToTimespec(mtime)}, want: cloneNot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.applyDefaults()
			if got := cloneUseFor(tt.e, tt.st, &tt.opt, tt.recheck); got != tt.want {
				t.Errorf("cloneUseFor = %d, want %d", got, tt.want)
			}
		})
	}
}
