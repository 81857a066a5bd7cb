package transfer

import (
	"context"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
)

// syncTrees makes dst match src with a Walker and a Copier, as the engine
// will, and returns the run's report and the entries that failed.
func syncTrees(t testing.TB, src, dst string, opt Options) (kpi.Report, []string, error) {
	t.Helper()
	ctx := context.Background()
	counters := kpi.New(kpi.Options{})
	opt.Reporter = counters
	w, err := partition.NewWalker(src, partition.Options{Walkers: 4, MaxFiles: 50})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chunks := make(chan partition.Chunk, 4)
	results := make(chan Result)
	var failed []string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx, chunks) })
	g.Go(func() error { defer close(results); return c.Run(gctx, chunks, results) })
	g.Go(func() error {
		for r := range results {
			failed = append(failed, r.Failed...)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return counters.Report(), failed, err
	}
	err = c.Finish(ctx)
	return counters.Report(), failed, err
}

// exact fails t unless dst is an exact copy of src by the comparator and
// by rsync's checksumming, nanosecond dry run.
func exact(t *testing.T, src, dst string, opt testtree.CompareOptions) {
	t.Helper()
	testtree.RequireExact(t, src, dst, opt)
}
