package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Result is what became of one chunk.
type Result struct {
	Chunk  int
	Failed []string // entries that failed after retries; the run goes on
}

// Copier makes a destination tree match a source tree, chunk by chunk:
// exactly (types, data, holes, owners, modes, xattrs and ACLs, mtimes to
// the nanosecond, hard links), atomically (each file is written under a
// temporary name and renamed into place), and safely (every destination
// call goes through directory fds opened with O_NOFOLLOW).
//
// Run may be called once; Finish then removes what the source lacks (with
// Options.Delete) and sets directories' metadata, deepest first; Close
// releases the roots.
type Copier struct {
	// config
	opt         Options
	feat        *features
	srcRoot     int
	dstRoot     int
	srcDev      uint64     // the source root's file system
	srcNoXattrs bool       // it has no xattrs at all, like EFS
	clock       Clock      // when New ran
	refs        []*refTree // Options.LinkDest, on the destination's mount

	// state
	dirs      *dirSet
	temps     inflight // temporary files being written
	xr        xattrReader
	stop      chan struct{} // closed by Stop
	stopped   sync.Once
	noCFR     atomic.Bool  // copy_file_range failed once: use read and write
	noClone   atomic.Bool  // FICLONE failed as unsupported: copy instead
	noOpenat2 atomic.Bool  // the kernel lacks openat2: open a name at a time
	skipped   atomic.Int64 // devices not made: no privilege
	claims    refClaims    // Options.RefGroups: reference inodes linked
}

// New opens src and dst, which must be directories (a final symlink in
// either is followed: the user named it), and probes what dst supports.
func New(ctx context.Context, src, dst string, opt Options) (*Copier, error) {
	opt.applyDefaults()
	s, err := unix.Open(src, dirFlags&^unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", src, err)
	}
	d, err := unix.Open(dst, dirFlags&^unix.O_NOFOLLOW, 0)
	if err != nil {
		unix.Close(s)
		return nil, fmt.Errorf("open destination %s: %w", dst, err)
	}
	c := &Copier{opt: opt, srcRoot: s, dstRoot: d, dirs: newDirSet(), stop: make(chan struct{})}
	c.feat = probe(d, opt.Logger, opt.DryRun)
	if c.srcDev, c.srcNoXattrs, err = probeSource(s); err != nil {
		c.Close()
		return nil, fmt.Errorf("source %s: %w", src, err)
	}
	var dst0 unix.Stat_t
	if err := unix.Fstat(d, &dst0); err == nil {
		c.clock = readClock(c.feat.ctime, c.srcDev, uint64(dst0.Dev))
	}
	if err := c.writable(d, "."); err != nil {
		c.Close()
		return nil, fmt.Errorf("destination %s: %w", dst, err)
	}
	if err := c.openRefs(opt.LinkDest, d); err != nil {
		c.Close()
		return nil, err
	}
	return c, ctx.Err()
}

// skipXattrs reports whether no entry's xattrs need reading: they are off,
// or the destination can set none, so that none are copied or compared.
func (c *Copier) skipXattrs() bool { return c.opt.NoXattrs || c.feat.noXattrs() }

// dstXattrs returns the xattrs of the destination entry a, or nil when
// they need no reading.
func (c *Copier) dstXattrs(a at) (xattrs, error) {
	if c.skipXattrs() {
		return nil, nil
	}
	return c.xr.read(a)
}

// Close releases the copier's file descriptors.
func (c *Copier) Close() error {
	return errors.Join(unix.Close(c.srcRoot), unix.Close(c.dstRoot), c.closeRefs())
}

// Run copies the chunks from in with Options.Workers workers until in is
// closed, sending each chunk's Result to out (if not nil) once all of its
// entries are done. A chunk is cut into batches (see BatchSize) that the
// workers share, so that one big chunk keeps them all busy. Run stops
// early, returning the error, when ctx is cancelled (temporary files are
// removed first), when the destination is full (a *FatalError), or when
// ErrorFunc returns an error; the Results of chunks not done are not sent.
func (c *Copier) Run(ctx context.Context, in <-chan partition.Chunk, out chan<- Result) error {
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan *batch, c.opt.Workers)
	g.Go(func() error {
		defer close(work)
		return dispatch(ctx, c.stop, in, work)
	})
	for range c.opt.Workers {
		g.Go(func() error {
			w := c.newWorker()
			defer w.close()
			for b := range work {
				if err := ctx.Err(); err != nil {
					return err
				}
				if !b.job.start(c.stopping()) {
					continue // stopped before the chunk began: it stays undone
				}
				failed, err := w.batch(ctx, b)
				if err != nil {
					return err
				}
				r, last := b.job.done(b.slot, failed)
				if !last || out == nil {
					continue
				}
				select {
				case out <- r:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return ctx.Err()
		})
	}
	return g.Wait()
}

// dispatch cuts each chunk from in into batches and sends them to work,
// until in is closed or ctx is cancelled.
func dispatch(ctx context.Context, stop <-chan struct{}, in <-chan partition.Chunk, work chan<- *batch) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return nil
		case ch, ok := <-in:
			if !ok {
				return nil
			}
			for _, b := range batches(&ch, BatchSize) {
				select {
				case work <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}

// Stop makes Run start no more chunks, for a graceful stop: it takes none
// from its channel, and drops the chunks it holds that no worker began
// (their Results are not sent). Chunks begun go on to their end, and Run
// then returns nil. It is safe to call at any time, more than once.
func (c *Copier) Stop() { c.stopped.Do(func() { close(c.stop) }) }

func (c *Copier) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// worker copies one batch at a time; its chains are its own.
type worker struct {
	c        *Copier
	src, dst *chain
	refs     []*chain  // one per Options.LinkDest tree
	hashBufs [2][]byte // sameHash's, one per side, made at first use
}

func (c *Copier) newWorker() *worker {
	return &worker{c: c, src: c.newChain(false), dst: c.newChain(true), refs: c.refChains()}
}

func (w *worker) close() {
	w.src.close()
	w.dst.close()
	for _, ch := range w.refs {
		ch.close()
	}
}

// failed books a failed entry into r and reports whether the run goes on.
func (w *worker) failed(r *Result, rel string, err error) bool {
	var fe *FatalError
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *stopError
	if errors.As(err, &se) {
		return false
	}
	r.Failed = append(r.Failed, rel)
	return true
}
