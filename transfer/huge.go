package transfer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
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
	if err := c.copyPieces(ctx, e.Path, src, tfd, &p, r.f); err != nil {
		return err
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
// It stops at the first error, or when ctx is cancelled, within one read
// or write.
func (c *Copier) copyPieces(ctx context.Context, rel string, src, dst int, p *PartialCopy, f *kpi.File) error {
	have := map[int64]bool{}
	for _, off := range p.Done {
		have[off] = true
	}
	todo := make(chan int64)
	var mu sync.Mutex // guards p.Done
	if c.opt.Partial != nil {
		defer c.saveEvery(rel, p, &mu)()
	}
	g, gctx := errgroup.WithContext(ctx)
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
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
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
