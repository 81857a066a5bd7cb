package efsync

import (
	"context"
	"fmt"
	"os"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sync/errgroup"
)

// Sync makes the contents of dst match those of src, the way fpsync treats
// its paths: a trailing slash changes nothing. It crawls src in parallel,
// streams the chunks to the copy workers while the crawl goes on, and, with
// Options.Delete, then removes what src lacks. It returns the run's report
// in every case but bad input.
//
// The error is nil when the pass completed, even if some entries failed
// (the report's status is then Partial and lists them); a *UsageError for
// bad input, before anything is touched; ErrUnsafeSource when a guard
// refuses the source; ctx's error when ctx or Options.Deadline stopped the
// run (Incomplete); otherwise what made it fail.
func Sync(ctx context.Context, src, dst string, opts ...Option) (*kpi.Report, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	o.applyDefaults()
	src, dst, err := checkPaths(src, dst)
	if err != nil {
		return nil, err
	}
	counters := kpi.New(kpi.Options{Source: src, Destination: dst})
	report := func(err error, failed int) (*kpi.Report, error) {
		counters.Finish(statusOf(err, failed))
		r := counters.Report()
		return &r, err
	}
	if err := guard(src, &o); err != nil {
		return report(err, 0)
	}
	if !o.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, o.Deadline)
		defer cancel()
	}
	if !o.DryRun {
		if err := os.Mkdir(dst, 0o700); err != nil && !os.IsExist(err) {
			return report(fmt.Errorf("create destination: %w", err), 0)
		}
	}
	failed, err := run(ctx, src, dst, &o, counters)
	return report(err, failed)
}

// run is one pass: crawl, copy, then Finish. It returns how many entries
// failed.
func run(ctx context.Context, src, dst string, o *Options, counters *kpi.Counters) (int, error) {
	w, err := partition.NewWalker(src, partition.Options{Walkers: o.Walkers, MaxFiles: o.MaxFiles,
		MaxBytes: o.MaxBytes, Filter: partition.Filter{Exclude: o.Excludes}, OneFileSystem: o.OneFileSystem,
		ReadLinks: true, Reporter: vanishedOnly{counters}})
	if err != nil {
		return 0, &UsageError{err}
	}
	c, err := transfer.New(ctx, src, dst, transfer.Options{Workers: o.Workers, Delete: o.Delete,
		DryRun: o.DryRun, Itemize: o.Itemize, Reporter: counters, Logger: o.Logger,
		Protect: func(rel string) bool { return w.Skips(rel, false) }})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	chunks, counted := make(chan partition.Chunk, 2), make(chan partition.Chunk, o.Workers)
	results := make(chan transfer.Result, o.Workers)
	failed := 0
	g, gctx := errgroup.WithContext(ctx)
	stopCrawl, stopCopy := counters.StartPhase("crawl"), counters.StartPhase("copy")
	g.Go(func() error { defer stopCrawl(); return w.Run(gctx, chunks) })
	g.Go(func() error { defer close(counted); return scanned(gctx, chunks, counted, counters) })
	g.Go(func() error { defer close(results); return c.Run(gctx, counted, results) })
	g.Go(func() error {
		for r := range results {
			failed += len(r.Failed)
		}
		return nil
	})
	err = g.Wait()
	stopCopy()
	if err != nil {
		return failed, err
	}
	defer counters.StartPhase("finish")()
	return failed, c.Finish(ctx)
}

// scanned books every entry of the chunks as scanned, and passes them on.
func scanned(ctx context.Context, in <-chan partition.Chunk, out chan<- partition.Chunk, c *kpi.Counters) error {
	for ch := range in {
		for i := range ch.Entries {
			e := &ch.Entries[i]
			size := int64(0)
			if e.IsRegular() {
				size = e.Size
			}
			c.Scanned(kpi.TypeOf(e.FileMode()), size)
		}
		select {
		case out <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// vanishedOnly passes the crawl's vanished entries to kpi but not its
// errors: those arrive at the copier as error entries, which books them.
type vanishedOnly struct{ c *kpi.Counters }

func (v vanishedOnly) Vanished(rel string) { v.c.Vanished(rel) }
func (vanishedOnly) Error(string, error)   {}
