package efsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
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

// work copies one delivered task, then acknowledges and reports it. It
// holds one of slots, and takes more for the copy if it has entries
// enough and they are free; it releases them all.
func work(ctx context.Context, q Queue, d Delivery, o *Options, refs *refGroupsCache, slots *semaphore.Weighted) error {
	held := int64(1)
	defer func() { slots.Release(held) }()
	t := d.Task()
	log := o.Logger.With("run", t.Run, "chunk", t.Chunk, "attempt", d.Attempt(), "worker", o.WorkerID)
	if o.Job != "" && t.Job != o.Job {
		log.Info("task of another job dropped", "job", t.Job, "want", o.Job)
		return d.Done(ctx)
	}
	rels := paths(t.Paths)
	if t.List != "" {
		var err error
		if rels, err = readList(t.List); errors.Is(err, fs.ErrNotExist) {
			log.Info("task already reported: its list is gone")
			return d.Done(ctx)
		} else if err != nil {
			return fmt.Errorf("read task list: %w", err)
		}
	}
	want := min(int64((len(rels)+transfer.BatchSize-1)/transfer.BatchSize), int64(o.Workers))
	for held < want && slots.TryAcquire(1) { // never waits: the receive loop may hold the last slot
		held++
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go heartbeat(wctx, d, o.Heartbeat, log)
	failed, rep, sums, err := copyTask(wctx, t, rels, o, int(held), refs)
	if err != nil {
		return fmt.Errorf("chunk %d: %w", t.Chunk, err)
	}
	cancel()
	if err := d.Done(ctx); err != nil && !errors.Is(err, ErrStaleDelivery) {
		return fmt.Errorf("ack chunk %d: %w", t.Chunk, err)
	}
	c := Completion{Run: t.Run, Chunk: t.Chunk, Attempt: d.Attempt(), Worker: o.WorkerID, Failed: bytesOf(failed),
		Files: rep.Files, Bytes: rep.Bytes, Errors: taskErrors(rep.Errors.First), ErrorCounts: rep.Errors.ByClass,
		Vanished: bytesOf(rep.VanishedPaths), VanishedTotal: rep.Vanished, Sums: sums}
	log.Info("chunk copied", "files", len(rels), "failed", len(failed), "bytes", rep.Bytes.Transferred)
	return q.Report(ctx, c)
}

// heartbeat extends d's visibility every period until ctx is done.
func heartbeat(ctx context.Context, d Delivery, period time.Duration, log *slog.Logger) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := d.Extend(ctx, 3*period); err != nil && ctx.Err() == nil {
				log.Warn("extend task visibility", "err", err) // another worker may redo it: no harm
			}
		}
	}
}

// copyTask copies the entries rels of t as they are now, but its
// directories: the leader made them, counts them, and sets their
// metadata once every chunk is in. It returns the entries that failed,
// what the copy counted, and the name of its sums file, if t asks for
// one.
func copyTask(ctx context.Context, t Task, rels []string, o *Options, workers int, refs *refGroupsCache) (failed []string, rep kpi.Report, sums string, err error) {
	all, vanished, err := partition.Restat(t.Src, rels, true)
	if err != nil {
		return nil, rep, "", err
	}
	counters := kpi.New(kpi.Options{RunID: t.Run, Source: t.Src, Destination: t.Dst})
	for _, rel := range vanished { // gone since the leader's crawl
		counters.Vanished(rel)
	}
	entries := all[:0]
	for _, e := range all {
		if !e.IsDir() || e.Err != nil {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil, counters.Report(), "", nil // the copier sends no Result for an empty chunk
	}
	to := transfer.Options{Workers: workers, NoXattrs: o.NoXattrs, Reporter: counters, Logger: o.Logger,
		LinkDest: t.Copy.LinkDest}
	to.Checksum = t.Copy.Checksum || o.Checksum
	to.HugeMin, to.HugeWorkers, to.HugePiece = t.Copy.HugeMin, t.Copy.HugeWorkers, t.Copy.HugePiece
	if t.Copy.RefGroups != "" {
		groups, err := refs.get(t.Copy.RefGroups)
		if err != nil {
			return nil, rep, "", err
		}
		to.RefGroups = func(rel string) bool { return groups[rel] }
	}
	var sw *sumsWriter
	if t.Copy.Sums != "" {
		if sw, err = newSumsWriter(t.Copy.Sums, t.Chunk); err != nil {
			return nil, rep, "", err
		}
		defer func() {
			if err != nil {
				sw.abort()
			}
		}()
		to.Hash, to.OnDone = true, sw.onDone
	}
	c, err := transfer.New(ctx, t.Src, t.Dst, to)
	if err != nil {
		return nil, rep, "", err
	}
	defer c.Close()
	in, out := make(chan partition.Chunk, 1), make(chan transfer.Result, 1)
	in <- partition.Chunk{ID: t.Chunk, Entries: entries}
	close(in)
	if err := c.Run(ctx, in, out); err != nil {
		return nil, rep, "", err
	}
	var r transfer.Result
	select {
	case r = <-out:
	default:
		return nil, rep, "", errors.New("copier ended without a result")
	}
	if sw != nil {
		if sums, err = sw.close(); err != nil {
			return nil, rep, "", err
		}
	}
	return r.Failed, counters.Report(), sums, nil
}

// refGroupsCache keeps the reference's hard-link group members that a
// worker read last: every task of a run names the same file.
type refGroupsCache struct {
	mu     sync.Mutex // tasks run at once
	path   string
	groups map[string]bool
}

// get returns the members listed in path.
func (c *refGroupsCache) get(path string) (map[string]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups != nil && c.path == path {
		return c.groups, nil
	}
	rels, err := readList(path)
	if err != nil {
		return nil, fmt.Errorf("reference groups: %w", err)
	}
	c.path, c.groups = path, make(map[string]bool, len(rels))
	for _, r := range rels {
		c.groups[r] = true
	}
	return c.groups, nil
}
