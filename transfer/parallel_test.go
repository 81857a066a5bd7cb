package transfer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
)

// barrier is a Reporter whose StartFile calls wait until n of them are
// waiting at once: it opens only if n entries are being copied at the same
// time. failsafe only keeps a copier that never gets there from hanging
// the test; it is not a timing.
type barrier struct {
	*kpi.Counters
	n        int
	failsafe time.Duration

	mu      sync.Mutex
	waiting int
	reached bool
	open    chan struct{}
}

func (b *barrier) StartFile(rel string, size int64) *kpi.File {
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n && !b.reached {
		b.reached = true
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-time.After(b.failsafe):
	}
	b.mu.Lock()
	b.waiting--
	b.mu.Unlock()
	return b.Counters.StartFile(rel, size)
}

// TestOneChunkManyWorkers copies a tree that the crawl puts in one chunk:
// several workers must copy its entries at once, and its one Result come
// after all of them.
func TestOneChunkManyWorkers(t *testing.T) {
	const workers, files = 4, 6 * BatchSize
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	var tree []testtree.Entry
	for d := range 3 {
		tree = append(tree, faultDir(fmt.Sprintf("d%d", d)))
		for i := range files / 3 {
			tree = append(tree, faultFile(fmt.Sprintf("d%d/f%03d", d, i), 10, uint64(i)))
		}
	}
	buildTree(t, src, tree...)

	ctx := context.Background()
	w, err := partition.NewWalker(src, partition.Options{Walkers: 2, MaxFiles: 10 * files})
	if err != nil {
		t.Fatal(err)
	}
	rep := &barrier{Counters: kpi.New(kpi.Options{}), n: workers, open: make(chan struct{}), failsafe: time.Minute}
	c, err := New(ctx, src, dst, Options{Workers: workers, Delete: true, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chunks, results := make(chan partition.Chunk, 1), make(chan Result, 4)
	var got []Result
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx, chunks) })
	g.Go(func() error { defer close(results); return c.Run(gctx, chunks, results) })
	g.Go(func() error {
		for r := range results {
			got = append(got, r)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Failed) != 0 {
		t.Fatalf("results %+v, want one chunk with no failures", got)
	}
	if !rep.reached {
		t.Errorf("never %d entries of the one chunk in flight at once", workers)
	}
	// A directory may be made ahead of its own entry by a worker with a
	// file inside it: then that entry finds it there.
	if r := rep.Report(); r.Files.Created < files {
		t.Errorf("created %d entries, want at least %d", r.Files.Created, files)
	}
	exact(t, src, dst, compareOpts())
}
