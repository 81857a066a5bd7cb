package latencyfs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestStatWalkParallel checks that every lookup waits the delay and that
// parallel requests wait it in parallel, as they do on EFS.
func TestStatWalkParallel(t *testing.T) {
	const dirs, perDir = 40, 50
	backing := t.TempDir()
	for d := range dirs {
		for f := range perDir {
			writeFile(t, backing, fmt.Sprintf("d%02d/f%02d", d, f), nil)
		}
	}
	// EntryTTL 0: every stat sends one LOOKUP, which returns the
	// attributes too, valid for AttrTTL, so no GETATTR follows.
	m := Start(t, backing, Options{Delay: time.Millisecond, AttrTTL: time.Second})

	var times [2]time.Duration
	for i, workers := range []int{1, 16} {
		must(t, m.Reset())
		start := time.Now()
		n, err := statWalk(m.Dir(), workers)
		times[i] = time.Since(start)
		must(t, err)
		c, err := m.Counts()
		must(t, err)
		t.Logf("%2d goroutines: %v for %d files; lookups %d, getattrs %d, readdirs %d",
			workers, times[i].Round(time.Millisecond), n, c.Ops["lookup"], c.Ops["getattr"], c.Ops["readdir"])
		if n != dirs*perDir || c.Ops["lookup"] < dirs*perDir {
			t.Fatalf("%d goroutines: %d files stat'ed, %d lookups; want %d of each", workers, n, c.Ops["lookup"], dirs*perDir)
		}
	}
	if times[0] < 2*time.Second {
		t.Errorf("1 goroutine: %v, want >= 2s (2,000 lookups behind 1 ms)", times[0])
	}
	if times[1]*5 > times[0] {
		t.Errorf("16 goroutines: %v, want <= %v (1/5 of 1 goroutine)", times[1], times[0]/5)
	}
}

// statWalk stats every entry of each directory under root (one level)
// with fstatat relative to the directory, as efsync's walker does. The
// given number of goroutines each take one directory at a time. It
// returns how many entries it stat'ed.
func statWalk(root string, workers int) (int, error) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return 0, err
	}
	names := make(chan string)
	var n atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for name := range names {
				k, err := statDir(filepath.Join(root, name))
				n.Add(int64(k))
				errs[w] = cmp.Or(errs[w], err)
			}
		})
	}
	for _, d := range dirs {
		names <- d.Name()
	}
	close(names)
	wg.Wait()
	return int(n.Load()), errors.Join(errs...)
}

// statDir lstats the entries of dir and returns how many it stat'ed.
func statDir(dir string) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return 0, err
	}
	for i, e := range entries {
		var st unix.Stat_t
		if err := unix.Fstatat(int(f.Fd()), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return i, &os.PathError{Op: "fstatat", Path: filepath.Join(dir, e.Name()), Err: err}
		}
	}
	return len(entries), nil
}

// TestCounts checks that the counters show exactly the operations a test
// made, and the bytes it wrote.
func TestCounts(t *testing.T) {
	const (
		files    = 4
		size     = 100_000 // not a multiple of the page size
		readSize = 300_000
	)
	backing := t.TempDir()
	writeFile(t, backing, "in/r", randomBytes(readSize))
	m := Start(t, backing, Options{Delay: 100 * time.Microsecond})
	mnt := m.Dir()
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}

	for _, d := range []string{"d1", "d2", "d3"} {
		must(t, os.Mkdir(filepath.Join(mnt, d), 0o755))
	}
	for i := range files {
		must(t, os.WriteFile(filepath.Join(mnt, "d1", fmt.Sprint("f", i)), randomBytes(size), 0o644))
	}
	must(t, os.Rename(filepath.Join(mnt, "d1/f0"), filepath.Join(mnt, "d2/f0")))
	must(t, os.Remove(filepath.Join(mnt, "d1/f1")))
	must(t, os.Symlink("f2", filepath.Join(mnt, "d1/s")))
	must(t, os.Link(filepath.Join(mnt, "d1/f2"), filepath.Join(mnt, "d3/h")))
	got, err := os.ReadFile(filepath.Join(mnt, "in/r"))
	must(t, err)
	if len(got) != readSize {
		t.Fatalf("read %d bytes, want %d", len(got), readSize)
	}

	c, err := m.Counts()
	must(t, err)
	t.Logf("counts: %+v", c)
	want := map[string]int64{"mkdir": 3, "create": files, "rename": 1, "unlink": 1, "symlink": 1, "link": 1, "rmdir": 0, "mknod": 0}
	gotOps := map[string]int64{}
	for op := range want {
		gotOps[op] = c.Ops[op]
	}
	if diff := gocmp.Diff(want, gotOps); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	if c.BytesWritten != files*size {
		t.Errorf("BytesWritten = %d, want %d", c.BytesWritten, files*size)
	}
	if c.BytesRead < readSize {
		t.Errorf("BytesRead = %d, want >= %d", c.BytesRead, readSize)
	}
	if c.Ops["write"] < files || c.Ops["read"] < 1 || c.Ops["flush"] < files+1 {
		t.Errorf("write %d, read %d, flush %d calls: too few", c.Ops["write"], c.Ops["read"], c.Ops["flush"])
	}

	must(t, m.Reset())
	c, err = m.Counts()
	// The kernel sends RELEASE after close has returned: one may land
	// after the Reset. Everything else must be zero.
	delete(c.Ops, "release")
	if err != nil || len(c.Ops) != 0 || c.BytesRead != 0 || c.BytesWritten != 0 || c.MaxWritesInFlight != 0 {
		t.Errorf("after Reset: %+v, %v; want zero but for a late release", c, err)
	}
}

// TestCopyFileRange checks that copy_file_range in the mount is answered
// ENOSYS, as on EFS, so the data is copied through reads and writes, and
// that the copy is right.
func TestCopyFileRange(t *testing.T) {
	const size = 3<<20 + 12345
	data := randomBytes(size)
	backing := t.TempDir()
	writeFile(t, backing, "src", data)
	m := Start(t, backing, Options{})
	must(t, m.Reset())

	src, err := os.Open(filepath.Join(m.Dir(), "src"))
	must(t, err)
	defer src.Close()
	dst, err := os.Create(filepath.Join(m.Dir(), "dst"))
	must(t, err)
	// *os.File to *os.File: io.Copy tries copy_file_range first.
	n, err := io.Copy(dst, src)
	must(t, err)
	must(t, dst.Close())
	if n != size {
		t.Fatalf("copied %d bytes, want %d", n, size)
	}

	c, err := m.Counts()
	must(t, err)
	t.Logf("counts: %+v", c)
	if c.Ops["copy_file_range"] < 1 {
		t.Errorf("copy_file_range never reached the file system: the test did not test it")
	}
	if c.BytesWritten != size || c.BytesRead < size {
		t.Errorf("BytesWritten %d, BytesRead %d; want %d and >= %d: data did not go through read and write",
			c.BytesWritten, c.BytesRead, size, size)
	}
	got, err := os.ReadFile(filepath.Join(backing, "dst"))
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Errorf("copy differs from source")
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	r.Read(b)
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
