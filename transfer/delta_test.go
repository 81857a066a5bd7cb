package transfer

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/zeebo/xxh3"
)

// These tests put the destination behind latencyfs and judge by what
// reached its file system (bytes written, inode numbers, content hashes),
// never by efsync's own counters.

// randomData returns n pseudo-random bytes from seed: real data, which no
// file system stores as a hole.
func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// writeAt writes data at off into the file name, creating it of size
// bytes (a hole where nothing is written) when size >= 0.
func writeAt(t *testing.T, name string, size int64, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if size >= 0 {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// fileHash returns the xxh3-128 of a file's content.
func fileHash(t *testing.T, name string) xxh3.Uint128 {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := xxh3.New128()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum128()
}

// inode returns a file's inode number and link count.
func inode(t *testing.T, name string) (uint64, uint64) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino, st.Nlink
}

// deltaRig is a source tree and a destination behind latencyfs.
type deltaRig struct {
	t       *testing.T
	m       *latencyfs.Mount
	src     string // the source tree, read directly
	dst     string // the destination, as the copier sees it (the mount)
	backing string // the destination, read directly: checks cost no FUSE calls
}

func newDeltaRig(t *testing.T) *deltaRig {
	backing, m := efsMount(t, latencyfs.Options{})
	r := &deltaRig{t: t, m: m, src: testtree.TempDir(t), dst: filepath.Join(m.Dir(), "dst"), backing: filepath.Join(backing, "dst")}
	if err := os.Mkdir(r.backing, 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

// sync runs a copy with opt and returns the bytes it wrote into the
// destination's file system.
func (r *deltaRig) sync(opt Options) int64 {
	r.t.Helper()
	if err := r.m.Reset(); err != nil {
		r.t.Fatal(err)
	}
	_, failed, err := syncCtx(context.Background(), r.src, r.dst, opt)
	if err != nil || len(failed) > 0 {
		r.t.Fatalf("sync: %v, failed %q", err, failed)
	}
	c, err := r.m.Counts()
	if err != nil {
		r.t.Fatal(err)
	}
	return c.BytesWritten
}

// same fails unless the destination's name holds the source's content.
func (r *deltaRig) same(name string) {
	r.t.Helper()
	if s, d := fileHash(r.t, filepath.Join(r.src, name)), fileHash(r.t, filepath.Join(r.backing, name)); s != d {
		r.t.Errorf("%s: content hash %x at the destination, %x at the source", name, d.Bytes(), s.Bytes())
	}
}

// TestInPlaceDelta changes 1 MiB in the middle of a 256 MiB file, then
// appends 4 MiB: each run rewrites about what changed, in the same inode,
// and leaves an exact copy.
func TestInPlaceDelta(t *testing.T) {
	const size, mib = 256 << 20, 1 << 20
	r := newDeltaRig(t)
	big := filepath.Join(r.src, "big")
	// Sparse but for real data at the start, the middle and the end, so
	// that the file costs a few MiB on disk.
	writeAt(t, big, size, 0, randomData(mib, 1))
	writeAt(t, big, -1, size/2-mib, randomData(2*mib, 2))
	writeAt(t, big, -1, size-mib, randomData(mib, 3))
	opt := Options{ContentOptions: ContentOptions{InPlace: true}}
	if n := r.sync(opt); n < 4*mib {
		t.Fatalf("first copy wrote %d bytes, want at least its 4 MiB of data", n)
	}
	ino, _ := inode(t, filepath.Join(r.backing, "big"))
	t.Logf("destination inode %d", ino)

	writeAt(t, big, -1, size/2, randomData(mib, 4)) // 1 MiB of new data, block-aligned
	n := r.sync(opt)
	t.Logf("1 MiB changed in 256 MiB: %d bytes written", n)
	if n > 2*mib {
		t.Errorf("%d bytes written for 1 MiB changed, want at most 2 MiB", n)
	}
	if now, _ := inode(t, filepath.Join(r.backing, "big")); now != ino {
		t.Errorf("inode %d became %d: not written in place", ino, now)
	}
	r.same("big")
	exact(t, r.src, r.backing, compareOpts())

	writeAt(t, big, -1, size, randomData(4*mib, 5)) // append 4 MiB
	n = r.sync(opt)
	t.Logf("4 MiB appended: %d bytes written", n)
	if n > 4*mib+defaultDeltaBlock {
		t.Errorf("%d bytes written for 4 MiB appended, want at most 4 MiB and one block", n)
	}
	if now, _ := inode(t, filepath.Join(r.backing, "big")); now != ino {
		t.Errorf("inode %d became %d: not written in place", ino, now)
	}
	r.same("big")
	exact(t, r.src, r.backing, compareOpts())
}
