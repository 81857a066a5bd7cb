package efsync

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/kpi"
)

// stoppingQueue calls stop once the first completion arrives.
type stoppingQueue struct {
	Queue
	once sync.Once
	stop func()
}

func (q *stoppingQueue) Completion(ctx context.Context) (Completion, error) {
	c, err := q.Queue.Completion(ctx)
	if err == nil {
		q.once.Do(q.stop)
	}
	return c, err
}

// TestQueueLeaderStopsAndRunsAgain: a leader stopped midway publishes
// no more, waits for the chunks it published until its Grace ends, is
// Incomplete and leaves in dst no file under a source's name that is not
// the source's copy, while workers go on with its tasks; the next run,
// on the same queue and workers, with the first run's tasks maybe still
// queued, makes an exact copy.
func TestQueueLeaderStopsAndRunsAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		all   bool // every chunk published is in the report
	}{
		{"graceful", time.Minute, true},
		{"grace over", time.Nanosecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := queueTree(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			mq := NewMemQueue(time.Minute)
			cq := &countingQueue{Queue: mq}
			q := &stoppingQueue{Queue: cq, stop: cancel}
			stop := startWorkers(t, mq, 3)
			rep, err := Sync(ctx, src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2),
				func(o *Options) { o.Grace = tc.grace })
			if !errors.Is(err, context.Canceled) || rep.Status != kpi.StatusIncomplete {
				t.Fatalf("stopped sync: %v, %v; want %v, %v", err, rep.Status, context.Canceled, kpi.StatusIncomplete)
			}
			n := cq.published.Load()
			if tc.all && (int64(len(rep.Partitions)) != n || n == 0) {
				t.Errorf("%d partitions in the stopped run's report, %d published: want all, at least one", len(rep.Partitions), n)
			}
			t.Logf("%d published, %d reported", n, len(rep.Partitions))
			sameOrAbsent(t, src, dst)

			rep, err = Sync(context.Background(), src, dst, WithQueue(mq), Delete(), MaxFiles(16), Workers(2))
			if err != nil || rep.Status != kpi.StatusSuccess {
				t.Fatalf("second sync: %v, %v", err, rep)
			}
			stop() // no worker still copying the first run's tasks
			exactCopy(t, src, dst)
		})
	}
}

// sameOrAbsent fails t unless each regular file of src is, in dst,
// absent or the same bytes: a copy cut short left no partial file under
// a real name.
func sameOrAbsent(t *testing.T, src, dst string) {
	t.Helper()
	checked := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dst, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes in dst, differing from the source's %d", rel, len(got), len(want))
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Error("no file of the source in dst")
	}
}
