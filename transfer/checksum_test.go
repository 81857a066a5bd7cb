package transfer

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// keepTimes gives name the mtime it had in st, as a same-size rewrite
// that the quick check can't see.
func keepTimes(t *testing.T, name string, st os.FileInfo) {
	t.Helper()
	if err := os.Chtimes(name, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func stat(t *testing.T, name string) os.FileInfo {
	t.Helper()
	st, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestChecksumFindsSameSizeSameMtime rewrites a source file with the same
// size and mtime: the quick check misses it, Checksum copies it, and a
// second run with Checksum writes nothing.
func TestChecksumFindsSameSizeSameMtime(t *testing.T) {
	r := newDeltaRig(t)
	f := filepath.Join(r.src, "f")
	writeAt(t, f, 256<<10, 0, randomData(256<<10, 1))
	r.sync(Options{})
	st := stat(t, f)
	writeAt(t, f, -1, 100<<10, randomData(4<<10, 2))
	keepTimes(t, f, st)

	if n := r.sync(Options{}); n != 0 {
		t.Errorf("the quick check wrote %d bytes; it can't see this change", n)
	}
	n := r.sync(Options{ContentOptions: ContentOptions{Checksum: true}})
	t.Logf("checksum run: %d bytes written", n)
	if n == 0 {
		t.Errorf("Checksum wrote nothing: the change was missed")
	}
	r.same("f")
	exact(t, r.src, r.backing, compareOpts())
	if n := r.sync(Options{ContentOptions: ContentOptions{Checksum: true}}); n != 0 {
		t.Errorf("a second Checksum run wrote %d bytes, want 0", n)
	}
}

// TestInPlaceNeverWritesSharedInode gives the destination copy a second
// link outside the tree, as an older snapshot would: the changed file gets
// a new inode, and the other link keeps its old content.
func TestInPlaceNeverWritesSharedInode(t *testing.T) {
	const size = 4 << 20
	r := newDeltaRig(t)
	f := filepath.Join(r.src, "f")
	writeAt(t, f, size, 0, randomData(size, 1))
	opt := Options{ContentOptions: ContentOptions{InPlace: true}}
	r.sync(opt)
	snap := filepath.Join(filepath.Dir(r.backing), "snap")
	if err := os.Link(filepath.Join(r.backing, "f"), snap); err != nil {
		t.Fatal(err)
	}
	old := fileHash(t, snap)
	ino, nlink := inode(t, snap)
	if nlink != 2 {
		t.Fatalf("nlink %d, want 2", nlink)
	}
	writeAt(t, f, -1, size/2, randomData(64<<10, 2))
	n := r.sync(opt)
	t.Logf("shared inode: %d bytes written", n)
	if now, _ := inode(t, filepath.Join(r.backing, "f")); now == ino {
		t.Errorf("inode %d written in place though another name shares it", ino)
	}
	if fileHash(t, snap) != old {
		t.Errorf("the other link's content changed")
	}
	if _, nlink := inode(t, snap); nlink != 1 {
		t.Errorf("the other link has nlink %d, want 1", nlink)
	}
	r.same("f")
	exact(t, r.src, r.backing, compareOpts())
}

// TestRecheckRepairsDirtyFile damages a destination file behind the
// copier's back, keeping its size and mtime, as a killed in-place run
// leaves one: Recheck names it, and the run repairs it in place, calling
// Dirty and Clean. Without Recheck it is left alone.
func TestRecheckRepairsDirtyFile(t *testing.T) {
	const size = 2 << 20
	r := newDeltaRig(t)
	writeAt(t, filepath.Join(r.src, "f"), size, 0, randomData(size, 1))
	writeAt(t, filepath.Join(r.src, "g"), size, 0, randomData(size, 2))
	r.sync(Options{})
	d := filepath.Join(r.backing, "f")
	st := stat(t, d)
	writeAt(t, d, -1, size/2, randomData(128<<10, 3))
	keepTimes(t, d, st)
	ino, _ := inode(t, d)
	if n := r.sync(Options{}); n != 0 {
		t.Errorf("without Recheck, %d bytes written", n)
	}

	var mu sync.Mutex
	var dirty, clean []string
	opt := Options{ContentOptions: ContentOptions{
		InPlace: true,
		Recheck: func(rel string) bool { return rel == "f" },
		Dirty: func(rel string) error {
			mu.Lock()
			defer mu.Unlock()
			dirty = append(dirty, rel)
			return nil
		},
		Clean: func(rel string) {
			mu.Lock()
			defer mu.Unlock()
			clean = append(clean, rel)
		},
	}}
	n := r.sync(opt)
	t.Logf("recheck: %d bytes written", n)
	if n == 0 || n > 128<<10 {
		t.Errorf("%d bytes written, want the one damaged block of 128 KiB", n)
	}
	if now, _ := inode(t, d); now != ino {
		t.Errorf("inode %d became %d: not repaired in place", ino, now)
	}
	if want := []string{"f"}; !slices.Equal(dirty, want) || !slices.Equal(clean, want) {
		t.Errorf("Dirty got %q, Clean got %q; want %q each", dirty, clean, want)
	}
	r.same("f")
	exact(t, r.src, r.backing, compareOpts())
}

// TestDirtyRefusalCopiesAtomically makes Dirty fail: the file is copied
// to a new inode, and Clean is never called.
func TestDirtyRefusalCopiesAtomically(t *testing.T) {
	const size = 2 << 20
	r := newDeltaRig(t)
	f := filepath.Join(r.src, "f")
	writeAt(t, f, size, 0, randomData(size, 1))
	r.sync(Options{})
	ino, _ := inode(t, filepath.Join(r.backing, "f"))
	writeAt(t, f, -1, 0, randomData(4<<10, 2))
	if err := os.Chtimes(f, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cleaned := false
	r.sync(Options{ContentOptions: ContentOptions{
		InPlace: true,
		Dirty:   func(string) error { return os.ErrPermission },
		Clean:   func(string) { cleaned = true },
	}})
	if now, _ := inode(t, filepath.Join(r.backing, "f")); now == ino {
		t.Errorf("written in place though Dirty refused")
	}
	if cleaned {
		t.Errorf("Clean called for a file never marked")
	}
	r.same("f")
	exact(t, r.src, r.backing, compareOpts())
}

// TestIgnoreTimesCopiesUnchanged copies an unchanged file under
// IgnoreTimes: whole, to a new inode, by default; in place, it is read on
// both sides and nothing of it is written.
func TestIgnoreTimesCopiesUnchanged(t *testing.T) {
	const size = 2 << 20
	r := newDeltaRig(t)
	writeAt(t, filepath.Join(r.src, "f"), size, 0, randomData(size, 1))
	r.sync(Options{})
	d := filepath.Join(r.backing, "f")
	ino, _ := inode(t, d)
	if n := r.sync(Options{ContentOptions: ContentOptions{IgnoreTimes: true}}); n != size {
		t.Errorf("IgnoreTimes wrote %d bytes, want the whole file's %d", n, size)
	}
	now, _ := inode(t, d)
	if now == ino {
		t.Errorf("IgnoreTimes kept inode %d: not copied", ino)
	}
	if n := r.sync(Options{ContentOptions: ContentOptions{IgnoreTimes: true, InPlace: true}}); n != 0 {
		t.Errorf("IgnoreTimes in place wrote %d bytes, want 0", n)
	}
	if again, _ := inode(t, d); again != now {
		t.Errorf("IgnoreTimes in place replaced inode %d by %d", now, again)
	}
	exact(t, r.src, r.backing, compareOpts())
}
