package efsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Work is a worker of runs that leaders share through q (fpsync -w): it
// receives a task, takes its entries as they are now in the source
// (partition.Restat), copies them from the task's Src to its Dst (but the
// directories, which the leader makes and counts), extending the task's visibility every
// Options.Heartbeat while it works, then marks the task done and reports
// its completion. It neither deletes nor sets directories' metadata: the
// leader does, once every chunk is done. A copy is idempotent, so a task
// delivered again after a worker died is simply copied again.
//
// Work returns when ctx is done (nil), or with an error that stops it:
// the queue's, or a copy's fatal one (a full destination). Tasks run at
// once while Options.Workers copy workers are not all busy: a task of n
// entries takes up to n/transfer.BatchSize of them, so that small tasks
// (a chunk of a few big files) are copied side by side.
func Work(ctx context.Context, q Queue, opts ...Option) error {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	o.applyDefaults()
	refs := &refGroupsCache{}
	slots := semaphore.NewWeighted(int64(o.Workers))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for {
			if slots.Acquire(gctx, 1) != nil {
				return nil // stopped
			}
			d, err := q.Receive(gctx)
			if gctx.Err() != nil {
				slots.Release(1)
				return nil
			}
			if errors.Is(err, ErrBadMessage) { // someone else's, or a newer leader's: not ours to drop
				slots.Release(1)
				o.Logger.Error("a task that can't be read: left to the queue", "err", err)
				continue
			}
			if err != nil {
				slots.Release(1)
				return fmt.Errorf("receive task: %w", err)
			}
			g.Go(func() error {
				if err := work(gctx, q, d, &o, refs, slots); err != nil && gctx.Err() == nil {
					return err
				}
				return nil // stopped: the task reappears for another worker
			})
		}
	})
	err := g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// work copies one delivered task, then reports and acknowledges it. It
// holds one of slots, and takes more for the copy if it has entries
// enough and they are free; it releases them all. A task it can't copy
// (its source is not the leader's tree, its list is out of reach, its
// run is over) is reported failed, with why, so that its leader never
// waits for it; it returns only what stops the worker: a fatal copy
// error (a full destination), after reporting the task.
func work(ctx context.Context, q Queue, d Delivery, o *Options, refs *refGroupsCache, slots *semaphore.Weighted) error {
	held := int64(1)
	defer func() { slots.Release(held) }()
	t := d.Task()
	log := o.Logger.With("run", t.Run, "chunk", t.Chunk, "attempt", d.Attempt(), "worker", o.WorkerID)
	if o.Job != "" && t.Job != o.Job {
		log.Info("task of another job dropped", "job", t.Job, "want", o.Job)
		ack(ctx, d, log)
		return nil
	}
	c := Completion{Run: t.Run, Chunk: t.Chunk, Attempt: d.Attempt(), Worker: o.WorkerID}
	rels, err := taskPaths(t)
	var lost atomic.Bool // another worker has the task now
	if err == nil {
		want := min(int64((len(rels)+transfer.BatchSize-1)/transfer.BatchSize), int64(o.Workers))
		for held < want && slots.TryAcquire(1) { // never waits: the receive loop may hold the last slot
			held++
		}
		wctx, cancel := context.WithCancel(ctx)
		go heartbeat(wctx, d, o.Heartbeat, log, func() { lost.Store(true); cancel() })
		var failed []string
		var rep kpi.Report
		failed, rep, c.Sums, err = copyTask(wctx, t, rels, o, int(held), refs)
		cancel()
		c.Failed, c.FailedTotal = capPaths(failed, maxFailedBytes), int64(len(failed))
		c.Files, c.Bytes, c.Errors, c.ErrorCounts = rep.Files, rep.Bytes, taskErrors(rep.Errors.First), rep.Errors.ByClass
		c.Vanished, c.VanishedTotal = bytesOf(rep.VanishedPaths), rep.Vanished
	}
	var fatal *transfer.FatalError
	switch {
	case err != nil && (ctx.Err() != nil || lost.Load()): // stopped, or the task is another's
		log.Info("chunk left to the queue", "lost", lost.Load())
		return nil
	case err != nil:
		log.Error("chunk not copied: reported failed", "err", err)
		c = Completion{Run: t.Run, Chunk: t.Chunk, Attempt: d.Attempt(), Worker: o.WorkerID, Err: err.Error(),
			Fatal: errors.As(err, &fatal)}
	default:
		log.Info("chunk copied", "files", len(rels), "failed", c.FailedTotal, "bytes", c.Bytes.Transferred)
	}
	// Reported, then acknowledged: a task acknowledged but not reported
	// would be lost, and its leader would wait for it to its deadline;
	// one reported twice is counted once.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if rerr := q.Report(rctx, c); rerr != nil {
		log.Warn("chunk not reported: left to the queue for another worker", "err", rerr)
	} else {
		ack(rctx, d, log)
	}
	if errors.As(err, &fatal) {
		return fmt.Errorf("chunk %d: %w", t.Chunk, err)
	}
	return nil
}

// ack acknowledges d. A failure only costs a second delivery, whose
// completion its leader ignores.
func ack(ctx context.Context, d Delivery, log *slog.Logger) {
	if err := d.Done(ctx); err != nil && !errors.Is(err, ErrStaleDelivery) {
		log.Warn("task not acknowledged: it comes again", "err", err)
	}
}

// maxFailedBytes bounds the failed paths a Completion lists, its message
// under SQS's 256 KiB with the rest of it: FailedTotal counts them all.
const maxFailedBytes = 64 << 10

// capPaths returns rels as a Completion carries them, as many as fit in
// max bytes of JSON (base64).
func capPaths(rels []string, max int) [][]byte {
	n := 0
	for i, r := range rels {
		if n += len(r)*4/3 + 8; n > max {
			return bytesOf(rels[:i])
		}
	}
	return bytesOf(rels)
}

// taskPaths returns the entries of t, from its list file if it has one.
func taskPaths(t Task) ([]string, error) {
	if t.List == "" {
		return paths(t.Paths), nil
	}
	rels, err := readList(t.List)
	if err != nil {
		// Gone once its chunk was reported, or with its run; or out of
		// this host's reach (the state directory not shared): reported
		// failed, a leader waiting for it learns why.
		return nil, fmt.Errorf("task list: %w", err)
	}
	return rels, nil
}

// heartbeat extends d's visibility every period until ctx is done, and
// calls lost if the queue says the task is no longer this delivery's (it
// reappeared, and another worker has it): the copy stops rather than run
// beside the other, past the leader's acceptance of it.
func heartbeat(ctx context.Context, d Delivery, period time.Duration, log *slog.Logger, lost func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			err := d.Extend(ctx, 3*period)
			switch {
			case err == nil || ctx.Err() != nil:
			case errors.Is(err, ErrStaleDelivery):
				log.Warn("task taken by another worker: copy stopped", "err", err)
				lost()
				return
			default:
				log.Warn("extend task visibility", "err", err) // another worker may redo it: no harm
			}
		}
	}
}
