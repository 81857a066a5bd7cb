package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// firstLeads elects the first agent that asks, as the conditional write
// of aws.Catalog.Lead does (tested there, on DynamoDB).
type firstLeads struct {
	mu      sync.Mutex
	leaders map[string]string
}

func (l *firstLeads) Lead(_ context.Context, id, instance string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leaders[id] == "" {
		l.leaders[id] = instance
	}
	return l.leaders[id], nil
}

// reporters records which workers reported completions.
type reporters struct {
	efsync.Queue
	mu  sync.Mutex
	who map[string]int
}

func (q *reporters) Report(ctx context.Context, c efsync.Completion) error {
	q.mu.Lock()
	q.who[c.Worker]++
	q.mu.Unlock()
	return q.Queue.Report(ctx, c)
}

// TestRunSharedJob: three agents started for one backup job share it:
// one leads (its record's host), the three copy its partitions, the
// snapshot is exact, and the workers end, exit 0, when the job has.
func TestRunSharedJob(t *testing.T) {
	base := testtree.TempDir(t)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	o := testtree.Small(71)
	o.HugeSparse = false
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	f := newFakeCloud(t)
	id := f.schedule(t, "daily", src, repo)
	q := &reporters{Queue: efsync.NewMemQueue(time.Minute), who: map[string]int{}}
	elect := &firstLeads{leaders: map[string]string{}}
	codes, outs := make([]int, 3), make([]bytes.Buffer, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		c := f.cloud
		c.Instance, c.Leader = fmt.Sprintf("i-%d", i), elect
		c.Fleet = jFleet{&journal{}} // the fake's journal is for one agent
		c.Lifecycle = jLifecycle{&journal{}}
		wg.Go(func() {
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			e := &env{ctx: ctx, stop: stop, stdout: &outs[i], stderr: &outs[i]}
			codes[i] = runJob(e, c, jobOptions{Window: time.Hour, CompleteWait: time.Second, Poll: time.Millisecond,
				JobPoll: 20 * time.Millisecond, Queue: q, StateDir: t.TempDir(), Verbose: true,
				Engine: efsync.Options{MaxFiles: 4, Workers: 2, Heartbeat: 100 * time.Millisecond}})
		})
	}
	wg.Wait()
	rec, err := f.cat.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	leader := elect.leaders[id]
	if rec.Status != kpi.StatusSuccess || rec.Host != leader || leader == "" {
		t.Fatalf("record %s %q host %q, leader %q", rec.Status, rec.Reason, rec.Host, leader)
	}
	for i, code := range codes {
		if code != 0 {
			t.Errorf("agent %d exited %d:\n%s", i, code, outs[i].String())
		}
	}
	testtree.RequireExact(t, src, rec.Snapshot, testtree.CompareOptions{})
	q.mu.Lock()
	defer q.mu.Unlock()
	t.Logf("completions by %v", q.who)
	if len(q.who) != 3 {
		t.Errorf("completions by %v: want every agent to copy partitions", q.who)
	}
	for w := range q.who {
		if !strings.HasPrefix(w, "i-") {
			t.Errorf("completion by %q: not an agent", w)
		}
	}
	log := f.logs.Text(id)
	for i := range 3 {
		if w := fmt.Sprintf("i-%d", i); w != leader && !strings.Contains(log, `"by":"worker `+w+`"`) {
			t.Errorf("no log part of worker %s in the job's log", w)
		}
	}
}
