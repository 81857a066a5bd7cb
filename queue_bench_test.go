package efsync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// BenchmarkQueueTasks measures what a queued run pays per task: 5,000
// small files on local disk in chunks of 16, 3 workers on a MemQueue.
// "copy" copies them all, "nochange" syncs two equal trees, where the
// work per task (a new transfer.Copier, a serial Restat) weighs most.
// Run it with -benchtime 3x.
func BenchmarkQueueTasks(b *testing.B) {
	base := testtree.TempDir(b)
	src := filepath.Join(base, "src")
	for d := range 50 {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), []byte(dir), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, bc := range []struct {
		name  string
		fresh bool // a new, empty destination each time
	}{{"copy", true}, {"nochange", false}} {
		b.Run(bc.name, func(b *testing.B) {
			dst := filepath.Join(base, "dst-"+bc.name)
			if !bc.fresh {
				queueSync(b, src, dst)
			}
			for b.Loop() {
				if bc.fresh {
					b.StopTimer()
					if err := os.RemoveAll(dst); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				queueSync(b, src, dst)
			}
			b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// queueSync syncs src to dst through a MemQueue and 3 workers.
func queueSync(b *testing.B, src, dst string) {
	q := efsync.NewMemQueue(time.Minute)
	defer benchWorkers(b, q, 3, 4)()
	rep, err := efsync.Sync(context.Background(), src, dst, efsync.WithQueue(q), efsync.MaxFiles(16),
		efsync.StateDir(filepath.Join(filepath.Dir(dst), "state")))
	if err != nil || rep.Status != kpi.StatusSuccess {
		b.Fatalf("sync: %v, %v", err, rep.Status)
	}
}

// benchWorkers starts n workers of w copy workers each on q, and returns
// the function that stops them.
func benchWorkers(b *testing.B, q efsync.Queue, n, w int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := efsync.Work(ctx, q, efsync.Workers(w)); err != nil {
				b.Error(err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}
