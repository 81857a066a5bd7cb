package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Partial records the huge copies a cancelled run left unfinished, so that
// the next run resumes them (ContentOptions.Partial). Its methods MUST be
// safe to call from several goroutines at once; a record MAY be lost (the
// copy then starts again), but MUST NOT be altered.
type Partial interface {
	// Load returns the record saved for the file rel, if any.
	Load(rel string) (PartialCopy, bool)
	// Save records the unfinished copy of rel, replacing any record.
	Save(rel string, p PartialCopy)
	// Drop forgets rel's record.
	Drop(rel string)
}

// PartialCopy is an unfinished huge copy: its temporary file, beside the
// destination, holds the pieces that start at the offsets Done, of a
// source of that Size and Mtime (ns). Pieces are HugePiece bytes long.
type PartialCopy struct {
	Temp        string
	Size, Mtime int64
	Piece       int64
	Done        []int64
}

// copyHuge is copyFile for a file of at least HugeMin bytes: HugeWorkers
// goroutines copy its HugePiece-byte pieces at once into one temporary
// file. A cancelled copy keeps its temporary file when Partial is set, and
// the next copy of an unchanged source writes only the missing pieces.
func (w *worker) copyHuge(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, old *unix.Stat_t, exists bool, r *fileReport) error {
	c := w.c
	src, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return sourceErr(e.Path, err)
	}
	defer unix.Close(src)
	var before unix.Stat_t
	if err := unix.Fstat(src, &before); err != nil {
		return sourceErr(e.Path, err)
	}
	if before.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s: %w", e.Path, errChanged) // replaced since the crawl
	}
	p := PartialCopy{Size: before.Size, Mtime: before.Mtim.Nano(), Piece: c.opt.HugePiece}
	tfd, err := c.hugeTemp(dfd, e.Path, &p)
	if err != nil {
		return err
	}
	c.temps.add(dfd, p.Temp)
	defer c.temps.remove(dfd, p.Temp)
	done := false
	defer func() {
		if done {
			return
		}
		unix.Close(tfd)
		if c.opt.Partial != nil && ctx.Err() != nil {
			c.opt.Partial.Save(e.Path, p) // kept for the next run
			return
		}
		unix.Unlinkat(dfd, p.Temp, 0)
		if c.opt.Partial != nil {
			c.opt.Partial.Drop(e.Path)
		}
	}()
	sum, err := c.copyPieces(ctx, e.Path, src, tfd, &p, r.f)
	if err != nil {
		return err
	}
	if c.opt.Hash {
		r.sum, r.hashed = sum, true
	}
	if err := unix.Ftruncate(tfd, p.Size); err != nil {
		return err
	}
	if err := w.sealTemp(e, x, src, tfd, &before, r); err != nil {
		return err
	}
	done = true
	if c.opt.Partial != nil {
		c.opt.Partial.Drop(e.Path)
	}
	if err := unix.Close(tfd); err != nil { // NFS reports ENOSPC here
		unix.Unlinkat(dfd, p.Temp, 0)
		return err
	}
	return w.replace(dfd, p.Temp, name, e.Path, old, exists)
}

// hugeTemp opens the temporary file for p: the one Partial recorded for
// rel, if its source is unchanged and it is still a lone regular file in
// dfd, with p.Done set; a new one otherwise.
func (c *Copier) hugeTemp(dfd int, rel string, p *PartialCopy) (int, error) {
	if c.opt.Partial != nil {
		if old, ok := c.opt.Partial.Load(rel); ok {
			if fd, ok := resumable(dfd, old, p); ok {
				p.Temp, p.Done = old.Temp, slices.Clone(old.Done)
				return fd, nil
			}
			c.opt.Partial.Drop(rel)
			if IsTemp(old.Temp) {
				unix.Unlinkat(dfd, old.Temp, 0)
			}
		}
	}
	p.Temp = tempName()
	return unix.Openat(dfd, p.Temp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
}

// resumable opens old's temporary file if it still fits the copy p.
func resumable(dfd int, old PartialCopy, p *PartialCopy) (int, bool) {
	if !IsTemp(old.Temp) || old.Size != p.Size || old.Mtime != p.Mtime || old.Piece != p.Piece {
		return -1, false
	}
	fd, err := unix.Openat(dfd, old.Temp, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// copyPieces copies the pieces of p not in p.Done from src to dst (the
// copy of rel), HugeWorkers at once, and adds each finished one to p.Done.
// With Options.Hash it returns the xxh3-128 of the content (hashBehind).
// It stops at the first error, or when ctx is cancelled, within one read
// or write.
func (c *Copier) copyPieces(ctx context.Context, rel string, src, dst int, p *PartialCopy, f *kpi.File) ([16]byte, error) {
	var sum [16]byte
	have := map[int64]bool{}
	for _, off := range p.Done {
		have[off] = true
	}
	copied := make([]chan struct{}, (p.Size+p.Piece-1)/p.Piece) // closed as each piece is in
	for i := range copied {
		copied[i] = make(chan struct{})
		if have[int64(i)*p.Piece] {
			close(copied[i])
		}
	}
	todo := make(chan int64)
	var mu sync.Mutex // guards p.Done
	if c.opt.Partial != nil {
		defer c.saveEvery(rel, p, &mu)()
	}
	g, gctx := errgroup.WithContext(ctx)
	if c.opt.Hash {
		g.Go(func() (err error) {
			if sum, err = hashBehind(gctx, src, p, copied); errors.Is(err, errChanged) {
				err = fmt.Errorf("%s: %w", rel, err)
			}
			return err
		})
	}
	g.Go(func() error {
		defer close(todo)
		for off := int64(0); off < p.Size; off += p.Piece {
			if have[off] {
				continue
			}
			select {
			case todo <- off:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range c.opt.HugeWorkers {
		g.Go(func() error {
			fd := reopen(src)
			if fd != src {
				defer unix.Close(fd)
			}
			for off := range todo {
				if err := c.copyData(gctx, fd, dst, off, min(off+p.Piece, p.Size), f, nil); err != nil {
					return err
				}
				// A recorded piece must survive a crash of this machine,
				// not just of this process: the next run won't look at it.
				if c.opt.Partial != nil {
					if err := unix.Fdatasync(dst); err != nil {
						return err
					}
				}
				mu.Lock()
				p.Done = append(p.Done, off)
				mu.Unlock()
				close(copied[off/p.Piece])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return sum, err
	}
	return sum, ctx.Err()
}

// hashBehind returns the xxh3-128 of src's content, read in order, each
// piece of p once copied says it is in: the copy has just read it, so
// the page cache (the NFS client's) holds it, and the manifest needs no
// second read of the file over the network, which pieces copied at once
// could not be hashed by in order. Holes hash as zeros, unread, as
// copyData hashes them.
func hashBehind(ctx context.Context, src int, p *PartialCopy, copied []chan struct{}) ([16]byte, error) {
	fd := reopen(src)
	if fd != src {
		defer unix.Close(fd)
	}
	h := xxh3.New128()
	buf := make([]byte, 1<<20)
	for i, in := range copied {
		select {
		case <-in:
		case <-ctx.Done():
			return [16]byte{}, ctx.Err()
		}
		off := int64(i) * p.Piece
		if err := hashRange(ctx, fd, off, min(off+p.Piece, p.Size), h, buf); err != nil {
			return [16]byte{}, err
		}
	}
	return h.Sum128().Bytes(), nil
}

// hashRange writes [off, end) of fd to h, read through buf, its holes as
// zeros without reading them.
func hashRange(ctx context.Context, fd int, off, end int64, h *xxh3.Hasher128, buf []byte) error {
	for off < end {
		data, hole := nextData(fd, off, end)
		hashZeros(h, data-off)
		for off = data; off < hole; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := unix.Pread(fd, buf[:min(int64(len(buf)), hole-off)], off)
			if err != nil {
				return err
			}
			if n == 0 {
				return errChanged // shorter than it was: the copy fails it too
			}
			h.Write(buf[:n])
			off += int64(n)
		}
	}
	return nil
}

// saveEvery records p with Partial every PartialEvery while its pieces
// are copied, so that a run killed outright (SIGKILL, a lost machine)
// resumes too, and returns a func that stops it.
func (c *Copier) saveEvery(rel string, p *PartialCopy, mu *sync.Mutex) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	mu.Lock()
	saved := len(p.Done) // a resumed copy's record has those already
	mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(c.opt.PartialEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			mu.Lock()
			rec := *p
			rec.Done = slices.Clone(p.Done)
			mu.Unlock()
			if len(rec.Done) == saved {
				continue
			}
			c.opt.Partial.Save(rel, rec)
			saved = len(rec.Done)
		}
	}()
	return func() { close(quit); <-done }
}

// reopen opens the file of fd anew, through /proc, so that each piece
// worker has its own file offset and readahead (the kernel's readahead
// of one file description, seeing eight readers, reads little ahead). It
// returns fd itself if that fails.
func reopen(fd int) int {
	nfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fd
	}
	return nfd
}
