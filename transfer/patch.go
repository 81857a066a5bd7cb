package transfer

import (
	"context"
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
	sbuf, dbuf []byte
}

// run makes dst, of dstSize bytes, hold src's size bytes: window by
// window, both sides are read at once, each block's xxh3-128 is compared,
// and runs of differing blocks are written with one pwrite each. Then dst
// is truncated or extended to size. It returns errChanged if src shrank.
func (p *patcher) run(ctx context.Context, size, dstSize int64) error {
	win := max(patchWindow/p.block, 1) * p.block
	p.sbuf, p.dbuf = make([]byte, win), make([]byte, win)
	for off := int64(0); off < size; off += win {
		if err := ctx.Err(); err != nil {
			return err
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
	}
	if dstSize == size {
		return nil
	}
	return unix.Ftruncate(p.dst, size)
}

// read fills sbuf[:n] from src and dbuf from dst at off, both at once,
// and returns how much of dst it read: at most dn bytes, fewer if dst is
// shorter than its stat said (the rest is then all literal).
func (p *patcher) read(off, n, dn int64) (int64, error) {
	type res struct {
		k   int64
		err error
	}
	dres := make(chan res, 1)
	go func() {
		k, err := preadFull(p.dst, p.dbuf[:dn], off)
		dres <- res{k, err}
	}()
	_, err := preadFull(p.src, p.sbuf[:n], off)
	if errors.Is(err, errShort) {
		err = errChanged // the source shrank under us
	}
	d := <-dres
	if err == nil && !errors.Is(d.err, errShort) {
		err = d.err
	}
	return d.k, err
}

// window compares the n bytes of src at off, block by block, with the dn
// bytes of dst there, and writes the runs of blocks that differ.
func (p *patcher) window(off, n, dn int64) error {
	run := int64(-1) // start of the pending run of differing blocks, in the window
	for b := int64(0); b < n; b += p.block {
		e := min(b+p.block, n)
		s := p.sbuf[b:e]
		if e <= dn && xxh3.Hash128(s) == xxh3.Hash128(p.dbuf[b:e]) {
			p.f.Copied(e - b)
			p.f.Matched(e - b)
			if run >= 0 {
				if err := p.write(p.sbuf[run:b], off+run); err != nil {
					return err
				}
				run = -1
			}
			continue
		}
		p.f.Copied(e - b)
		if run < 0 {
			run = b
		}
	}
	if run >= 0 {
		return p.write(p.sbuf[run:n], off+run)
	}
	return nil
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
