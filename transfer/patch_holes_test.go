package transfer

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// These tests judge how a delta keeps holes by what the file system
// holds afterwards (blocks allocated, inode numbers, content hashes), and
// by what latencyfs saw read.

// punchHole makes [off, off+n) of the file name a hole, keeping its size.
func punchHole(t *testing.T, name string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
		t.Skipf("this file system can't punch holes: %v", err)
	}
}

// allocated returns the bytes a file has allocated (st_blocks).
func allocated(t *testing.T, name string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// TestDeltaHoles rewrites a dense 64 MiB file in place after its source
// changed part of it to a hole or to zeros: a hole becomes a hole (the
// destination frees its blocks), written zeros stay data, and the file is
// rewritten in its own inode with the source's content.
func TestDeltaHoles(t *testing.T) {
	const size, mib = 64 << 20, 1 << 20
	tests := []struct {
		name   string
		change func(t *testing.T, p string)
		freed  int64 // how much less the destination allocates after
	}{
		{name: "hole punched", freed: 16 * mib, change: func(t *testing.T, p string) {
			punchHole(t, p, 24*mib+4096, 16*mib) // not block-aligned
		}},
		{name: "zeros written", change: func(t *testing.T, p string) {
			writeAt(t, p, -1, 24*mib+4096, make([]byte, 16*mib))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
			mkdirs(t, src, dst)
			f := filepath.Join(src, "f")
			writeAt(t, f, size, 0, randomData(size, 7))
			opt := Options{ContentOptions: ContentOptions{InPlace: true}}
			mustSync(t, src, dst, opt)
			ino, _ := inode(t, filepath.Join(dst, "f"))
			before := allocated(t, filepath.Join(dst, "f"))
			tt.change(t, f)
			mustSync(t, src, dst, opt)
			after := allocated(t, filepath.Join(dst, "f"))
			t.Logf("destination allocates %d bytes, was %d; source %d", after, before, allocated(t, f))
			if freed := before - after; freed < tt.freed-mib || freed > tt.freed+mib {
				t.Errorf("destination freed %d bytes, want about %d", freed, tt.freed)
			}
			if now, _ := inode(t, filepath.Join(dst, "f")); now != ino {
				t.Errorf("inode %d became %d: not written in place", ino, now)
			}
			if s, d := fileHash(t, f), fileHash(t, filepath.Join(dst, "f")); s != d {
				t.Errorf("content hash %x, want %x", d.Bytes(), s.Bytes())
			}
			exact(t, src, dst, compareOpts())
		})
	}
}

// TestDeltaSkipsHoles changes 1 MiB of a 1 GiB file that is a hole but
// for 2 MiB: the delta reads the destination's data, not its hole, as
// latencyfs counts, and writes about what changed.
func TestDeltaSkipsHoles(t *testing.T) {
	const size, mib = 1 << 30, 1 << 20
	r := newDeltaRig(t)
	f := filepath.Join(r.src, "sparse")
	writeAt(t, f, size, 0, randomData(mib, 1))
	writeAt(t, f, -1, size/2, randomData(mib, 2))
	opt := Options{ContentOptions: ContentOptions{InPlace: true}}
	r.sync(opt)
	writeAt(t, f, -1, size/2, randomData(mib, 3))
	written := r.sync(opt)
	c, err := r.m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1 MiB changed in a 1 GiB sparse file: %d bytes read, %d written at the destination", c.BytesRead, written)
	if c.BytesRead > 4*mib {
		t.Errorf("read %d bytes of the destination, want its 2 MiB of data, not its hole", c.BytesRead)
	}
	if written > 2*mib {
		t.Errorf("wrote %d bytes for 1 MiB changed", written)
	}
	if a := allocated(t, filepath.Join(r.backing, "sparse")); a > 3*mib {
		t.Errorf("destination allocates %d bytes, want its 2 MiB of data", a)
	}
	r.same("sparse")
	exact(t, r.src, r.backing, compareOpts())
}

// TestExtentsRead reads a file with holes through extents.read, window by
// window, and checks the bytes and the holes it reports against the
// file's own SEEK_DATA/SEEK_HOLE map and content.
func TestExtentsRead(t *testing.T) {
	const mib = 1 << 20
	name := filepath.Join(t.TempDir(), "f")
	want := make([]byte, 8*mib)
	for _, off := range []int64{0, 3*mib + 8192, 7 * mib} {
		d := randomData(mib/2, uint64(off))
		copy(want[off:], d)
		writeAt(t, name, 8*mib, off, d)
	}
	fd, err := unix.Open(name, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	x := extents{fd: fd}
	buf := make([]byte, 3*mib) // windows that start and end in holes and data
	var holes []span
	var total int64
	for off := int64(0); off < int64(len(want)); off += int64(len(buf)) {
		n := min(int64(len(buf)), int64(len(want))-off)
		k, h, err := x.read(buf[:n], off, holes)
		if err != nil || k != n {
			t.Fatalf("read at %d: %d bytes, %v", off, k, err)
		}
		if string(buf[:n]) != string(want[off:off+n]) {
			t.Errorf("window at %d: wrong bytes", off)
		}
		for _, s := range h {
			if !allZero(want[off+s.lo : off+s.hi]) {
				t.Errorf("window at %d: hole %v holds data", off, s)
			}
			total += s.hi - s.lo
		}
		holes = h
	}
	if alloc := allocated(t, name); total+alloc < 8*mib-64<<10 || total+alloc > 8*mib+64<<10 {
		t.Errorf("holes total %d bytes and the file allocates %d: want them to make up its 8 MiB", total, alloc)
	}
	if !sameHoles([]span{{0, 4}, {6, 9}}, []span{{2, 5}, {6, 8}}, 2, 4) {
		t.Error("sameHoles: [0,4) and [2,5) differ within [2,4)")
	}
	if sameHoles([]span{{0, 4}}, []span{{0, 3}}, 0, 8) {
		t.Error("sameHoles: [0,4) and [0,3) are the same")
	}
}
