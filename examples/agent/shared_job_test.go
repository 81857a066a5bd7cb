package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// runAgents runs three agents, i-0 to i-2, on f's job, sharing q, until
// they end, and returns their exit codes and outputs. stop, if set, gets
// the stop of each agent's context, by instance.
func runAgents(t *testing.T, f *fakeCloud, q efsync.Queue, elect *firstLeads, stop map[string]func()) ([]int, []bytes.Buffer) {
	t.Helper()
	codes, outs := make([]int, 3), make([]bytes.Buffer, 3)
	ctxs, cancels := make([]context.Context, 3), make([]context.CancelFunc, 3)
	for i := range 3 { // all before any agent runs: stop is then only read
		ctxs[i], cancels[i] = context.WithCancel(t.Context())
		if stop != nil {
			stop[fmt.Sprintf("i-%d", i)] = cancels[i]
		}
	}
	var wg sync.WaitGroup
	for i := range 3 {
		c := f.cloud
		c.Instance, c.Leader = fmt.Sprintf("i-%d", i), elect
		c.Fleet = jFleet{&journal{}} // the fake's journal is for one agent
		c.Lifecycle = jLifecycle{&journal{}}
		wg.Go(func() {
			defer cancels[i]()
			e := &env{ctx: ctxs[i], stop: cancels[i], stdout: &outs[i], stderr: &outs[i]}
			codes[i] = runJob(e, c, jobOptions{Window: time.Hour, CompleteWait: time.Second, Poll: time.Millisecond,
				JobPoll: 20 * time.Millisecond, Queue: q, StateDir: t.TempDir(), Verbose: true,
				Engine: efsync.Options{MaxFiles: 4, Workers: 2, Heartbeat: 100 * time.Millisecond, Grace: 50 * time.Millisecond}})
		})
	}
	wg.Wait()
	return codes, outs
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
	codes, outs := runAgents(t, f, q, elect, nil)
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

// stopLeader stops the leader's agent at the third completion.
type stopLeader struct {
	efsync.Queue
	stop map[string]func()
	n    atomic.Int32
}

func (q *stopLeader) Report(ctx context.Context, c efsync.Completion) error {
	if q.n.Add(1) == 3 {
		q.stop["i-0"]()
	}
	return q.Queue.Report(ctx, c)
}

// TestRunSharedJobStopped: a shared job whose leader is stopped midway
// ends Incomplete, its workers with it (exit 0), no file half-written
// under its real name; the next job, on the same queue with the first
// one's partitions left in it, makes an exact snapshot.
func TestRunSharedJobStopped(t *testing.T) {
	base := testtree.TempDir(t)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	o := testtree.Small(72)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	f := newFakeCloud(t)
	first := f.schedule(t, "daily", src, repo)
	stops := map[string]func(){}
	q := &stopLeader{Queue: efsync.NewMemQueue(time.Minute), stop: stops}
	codes, outs := runAgents(t, f, q, &firstLeads{leaders: map[string]string{first: "i-0"}}, stops)
	rec, err := f.cat.Get(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != kpi.StatusIncomplete || rec.Host != "i-0" || codes[0] != 3 || codes[1] != 0 || codes[2] != 0 {
		t.Fatalf("record %s %q host %s, exit codes %v: want incomplete by i-0, 3 0 0\n%s", rec.Status, rec.Reason, rec.Host, codes, outs[0].String())
	}
	wholeOrAbsent(t, src, repo)

	time.Sleep(2 * time.Millisecond) // a new id
	second := f.schedule(t, "daily", src, repo)
	codes, outs = runAgents(t, f, q, &firstLeads{leaders: map[string]string{}}, nil)
	if rec, err = f.cat.Get(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	if rec.Status != kpi.StatusSuccess || codes[0]+codes[1]+codes[2] != 0 {
		t.Fatalf("second job: record %s %q, exit codes %v\n%s%s%s", rec.Status, rec.Reason, codes, &outs[0], &outs[1], &outs[2])
	}
	testtree.RequireExact(t, src, rec.Snapshot, testtree.CompareOptions{})
}

// wholeOrAbsent fails t for a file under repo's trees that is not the
// source's file of its path, whole, nor a temporary file.
func wholeOrAbsent(t *testing.T, src, repo string) {
	t.Helper()
	trees, _ := filepath.Glob(filepath.Join(repo, "daily", "*"))
	trees2, _ := filepath.Glob(filepath.Join(repo, "daily", ".*"))
	seen := 0
	for _, tree := range append(trees, trees2...) {
		filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(tree, p)
			if strings.HasPrefix(d.Name(), ".efsync-") {
				t.Errorf("temporary file left: %s", p)
				return nil
			}
			want, err := os.ReadFile(filepath.Join(src, rel))
			got, _ := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: not the source's file whole", p)
			}
			seen++
			return nil
		})
	}
	if seen == 0 {
		t.Error("no file copied before the stop: the test shows nothing")
	}
}
