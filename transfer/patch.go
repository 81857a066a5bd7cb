package transfer

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/efsync/efsync/kpi"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// patchWindow is how much of each side is read per step at least: NFS
// clients move up to 1 MiB per call, and a cancelled run stops within one
// window's time.
const patchWindow = 1 << 20

// patcher rewrites dst's blocks that differ from src's. One patcher serves
// one file, in one goroutine (plus its own reader of dst).
type patcher struct {
	// config
	src, dst int
	block    int64
	f        *kpi.File

	// state
	sx, dx     extents // each side's data extents
	sbuf, dbuf []byte
	sh, dh     []span // each side's holes in the window
	noPunch    bool   // dst can't punch holes: zeros are written instead
}

// run makes dst, of dstSize bytes, hold src's size bytes: window by
// window, both sides are read at once, each block's xxh3-128 is compared,
// and runs of differing blocks are written with one pwrite each. Then dst
// is truncated or extended to size. It returns errChanged if src shrank.
//
// Holes are kept, as a copy keeps them: a hole is never read, blocks that
// are holes on both sides are skipped, and where src has a hole and dst
// data, the data is punched out. Zeros that src stores as data are
// written as data.
func (p *patcher) run(ctx context.Context, size, dstSize int64) error {
	win := max(patchWindow/p.block, 1) * p.block
	p.sbuf, p.dbuf = make([]byte, win), make([]byte, win)
	p.sx, p.dx = extents{fd: p.src}, extents{fd: p.dst}
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		if next := p.skipHoles(off, size, dstSize); next > off {
			p.f.Copied(next - off)
			p.f.Matched(next - off)
			off = next
			continue
		}
		n := min(win, size-off)
		dn := min(n, max(dstSize-off, 0))
		dn, err := p.read(off, n, dn)
		if err != nil {
			return err
		}
		if err := p.window(off, n, dn); err != nil {
			return err
		}
		off += n
	}
	if dstSize == size {
		return nil
	}
	return unix.Ftruncate(p.dst, size)
}

// skipHoles returns the start of the first block at or after off (a
// block boundary) that has data on either side: the blocks before it are
// holes on both, or past dst's end, and need neither reading nor writing.
func (p *patcher) skipHoles(off, size, dstSize int64) int64 {
	next, _ := p.sx.next(off)
	if off < dstSize {
		d, _ := p.dx.next(off)
		next = min(next, d)
	}
	return max(min(next, size)/p.block*p.block, off)
}

// read fills sbuf[:n] from src and dbuf from dst at off, both at once,
// with each side's holes in sh and dh, and returns how much of dst it
// read: at most dn bytes, fewer if dst is shorter than its stat said (the
// rest is then all literal, and counts as a hole of dst's).
func (p *patcher) read(off, n, dn int64) (int64, error) {
	type res struct {
		k   int64
		err error
	}
	dres := make(chan res, 1)
	go func() {
		var k int64
		var err error
		k, p.dh, err = p.dx.read(p.dbuf[:dn], off, p.dh)
		dres <- res{k, err}
	}()
	var err error
	_, p.sh, err = p.sx.read(p.sbuf[:n], off, p.sh)
	if errors.Is(err, errShort) {
		err = errChanged // the source shrank under us
	}
	d := <-dres
	if err == nil && !errors.Is(d.err, errShort) {
		err = d.err
	}
	p.dh = addHole(p.dh, d.k, n)
	return d.k, err
}

// window compares the n bytes of src at off, block by block, with the dn
// bytes of dst there, and writes the runs of blocks that differ.
func (p *patcher) window(off, n, dn int64) error {
	run := int64(-1) // start of the pending run of differing blocks, in the window
	for b := int64(0); b < n; b += p.block {
		e := min(b+p.block, n)
		p.f.Copied(e - b)
		if p.same(b, e, dn) {
			p.f.Matched(e - b)
			if run >= 0 {
				if err := p.put(off, run, b, dn); err != nil {
					return err
				}
				run = -1
			}
			continue
		}
		if run < 0 {
			run = b
		}
	}
	if run >= 0 {
		return p.put(off, run, n, dn)
	}
	return nil
}

// same reports whether dst's block [b, e) of the window already is src's:
// the same bytes, with holes where src has them (if dst can punch them).
func (p *patcher) same(b, e, dn int64) bool {
	hole := covered(p.sh, b, e)
	if hole && b >= dn {
		return true // past dst's end: extending it makes the hole
	}
	if !p.noPunch && !sameHoles(p.sh, p.dh, b, e) {
		return false
	}
	if hole {
		return true // a hole on both sides
	}
	return e <= dn && xxh3.Hash128(p.sbuf[b:e]) == xxh3.Hash128(p.dbuf[b:e])
}

// put writes the bytes [a, b) of the window at off into dst: src's data
// with pwrite, and its holes punched.
func (p *patcher) put(off, a, b, dn int64) error {
	pos := a
	for s := clip(p.sh, a, b); len(s) > 0; s = clip(s[1:], a, b) {
		h := cut(s[0], a, b)
		if err := p.write(p.sbuf[pos:h.lo], off+pos); err != nil {
			return err
		}
		if err := p.punch(off, h, dn); err != nil {
			return err
		}
		pos = h.hi
	}
	return p.write(p.sbuf[pos:b], off+pos)
}

// punch makes the hole h of the window at off a hole in dst too. Where
// dst can't punch holes (NFS before 4.2), it writes the zeros, unless dst
// holds zeros there already.
func (p *patcher) punch(off int64, h span, dn int64) error {
	if !p.noPunch {
		err := unix.Fallocate(p.dst, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off+h.lo, h.hi-h.lo)
		if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
			return err
		}
		p.noPunch = true
	}
	if h.hi <= dn && allZero(p.dbuf[h.lo:h.hi]) {
		return nil
	}
	return p.write(p.sbuf[h.lo:h.hi], off+h.lo) // zeroed by read
}

// allZero reports whether b holds only zeros.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.NativeEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// write writes buf at off in dst.
func (p *patcher) write(buf []byte, off int64) error {
	for len(buf) > 0 {
		k, err := unix.Pwrite(p.dst, buf, off)
		if err != nil {
			return err
		}
		buf, off = buf[k:], off+int64(k)
	}
	return nil
}

// errShort says a file ended before the bytes asked for.
var errShort = errors.New("file shorter than expected")

// preadFull reads len(buf) bytes of fd at off, or fails with errShort,
// returning how many it read.
func preadFull(fd int, buf []byte, off int64) (int64, error) {
	var got int64
	for int(got) < len(buf) {
		k, err := unix.Pread(fd, buf[got:], off+got)
		if err != nil {
			return got, err
		}
		if k == 0 {
			return got, errShort
		}
		got += int64(k)
	}
	return got, nil
}
