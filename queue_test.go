package efsync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// countingQueue counts the tasks published through it.
type countingQueue struct {
	Queue
	published atomic.Int64
}

func (q *countingQueue) Publish(ctx context.Context, t Task) error {
	q.published.Add(1)
	return q.Queue.Publish(ctx, t)
}

// queueTree builds a source tree, and a destination with entries the
// source lacks, for the delete pass.
func queueTree(t *testing.T) (src, dst string) {
	t.Helper()
	base := testtree.TempDir(t)
	src, dst = filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.Mkdir(src, 0o755))
	o := testtree.Small(62)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Join(dst, "stale", "deep"), 0o755))
	must(t, os.WriteFile(filepath.Join(dst, "stale", "deep", "f"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(dst, "junk"), []byte("old"), 0o644))
	return src, dst
}

// startWorkers runs n workers on q until the test ends, or until stop,
// which waits for them to return.
func startWorkers(t *testing.T, q Queue, n int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := Work(ctx, q, Workers(2), func(o *Options) {
				o.Heartbeat, o.WorkerID = 50*time.Millisecond, string(rune('a'+i))
			}); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// checkPartitions fails unless rep counts each published chunk once.
func checkPartitions(t *testing.T, rep *kpi.Report, published int64) {
	t.Helper()
	seen := map[int]bool{}
	for _, p := range rep.Partitions {
		if seen[p.ID] {
			t.Errorf("partition %d counted twice", p.ID)
		}
		seen[p.ID] = true
	}
	if int64(len(seen)) != published || published < 3 {
		t.Errorf("%d partitions in the report, %d published; want equal, at least 3", len(seen), published)
	}
}

func TestQueueLeaderAndWorkers(t *testing.T) {
	src, dst := queueTree(t)
	q := &countingQueue{Queue: NewMemQueue(time.Minute)}
	startWorkers(t, q, 3)
	rep, err := Sync(context.Background(), src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	exactCopy(t, src, dst)
	checkPartitions(t, rep, q.published.Load())
	f := rep.Files
	if booked := f.Created + f.Updated + f.HardLinked + f.Unchanged + f.MetadataOnly + f.Failed + f.Skipped; booked != rep.Scanned.Total() {
		t.Errorf("%d entries booked (%+v), %d scanned: want each once", booked, f, rep.Scanned.Total())
	}

	if _, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 2, Percent: 20}); err != nil {
		t.Fatal(err)
	}
	q.published.Store(0)
	rep, err = Sync(context.Background(), src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("second sync: %v, %v", err, rep)
	}
	exactCopy(t, src, dst)
	checkPartitions(t, rep, q.published.Load())
}

func TestQueueRedeliversDeadWorkersTask(t *testing.T) {
	src, dst := queueTree(t)
	q := &countingQueue{Queue: NewMemQueue(300 * time.Millisecond)}
	taken := make(chan int, 1)
	go func() { // a worker that takes a task and dies: never Done, never extended
		d, err := q.Receive(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		taken <- d.Task().Chunk
	}()
	var lost int
	go func() {
		lost = <-taken
		startWorkers(t, q, 3)
	}()
	rep, err := Sync(context.Background(), src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	exactCopy(t, src, dst)
	checkPartitions(t, rep, q.published.Load())
	for _, p := range rep.Partitions {
		if want := map[bool]int{true: 2, false: 1}[p.ID == lost]; p.Attempts != want {
			t.Errorf("partition %d: %d attempts, want %d", p.ID, p.Attempts, want)
		}
	}
}

// TestQueueDropsOtherJobsTasks: a task an ended job left in the queue
// is dropped by the workers of the next job, not copied.
func TestQueueDropsOtherJobsTasks(t *testing.T) {
	src, dst := queueTree(t)
	old := filepath.Join(t.TempDir(), "old")
	must(t, os.Mkdir(old, 0o755))
	must(t, os.WriteFile(filepath.Join(old, "leftover"), []byte("an ended job's"), 0o644))
	elsewhere := t.TempDir() // not dst, whose delete pass would hide a copy
	q := &countingQueue{Queue: NewMemQueue(time.Minute)}
	must(t, q.Queue.Publish(context.Background(), Task{Run: "r0", Job: "ended", Chunk: 1, Src: old, Dst: elsewhere,
		Paths: [][]byte{[]byte("leftover")}}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := Work(ctx, q, Workers(2), func(o *Options) { o.Job = "tonight" }); err != nil {
				t.Errorf("worker: %v", err)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	rep, err := Sync(context.Background(), src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2),
		func(o *Options) { o.Job = "tonight" })
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	exactCopy(t, src, dst)
	if _, err := os.Lstat(filepath.Join(elsewhere, "leftover")); err == nil {
		t.Error("the ended job's task was copied")
	}
	checkPartitions(t, rep, q.published.Load())
	rctx, rcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer rcancel()
	if d, err := q.Receive(rctx); err == nil {
		t.Errorf("task %+v left in the queue: want the ended job's dropped", d.Task())
	}
}

// TestQueueWorkersErrorsReachLeader: a source file that a worker cannot
// read (EIO, through latencyfs) is in the leader's report with its
// class and message, not only counted as failed.
func TestQueueWorkersErrorsReachLeader(t *testing.T) {
	src, dst := queueTree(t)
	bad := "bad\xff" // not UTF-8: the path crosses the queue in base64
	must(t, os.WriteFile(filepath.Join(src, bad), []byte("unreadable"), 0o644))
	m := latencyfs.Start(t, filepath.Dir(src), latencyfs.Options{})
	must(t, m.SetFaults([]latencyfs.Fault{{Op: "read", Path: "src/bad*", Errno: syscall.EIO}}))
	q := NewMemQueue(time.Minute)
	startWorkers(t, q, 2)
	rep, err := Sync(context.Background(), m.Dir()+"/src", dst, WithQueue(q), MaxFiles(16), Workers(2))
	if err != nil || rep.Status != kpi.StatusPartial {
		t.Fatalf("sync: %v, %v; want status partial", err, rep.Status)
	}
	var got []kpi.ErrorRecord
	for _, r := range rep.Errors.First {
		if r.Path == bad {
			got = append(got, r)
		}
	}
	if len(got) != 1 || got[0].Class != kpi.ClassIO || !strings.Contains(got[0].Message, "input/output error") {
		t.Errorf("errors of %q in the report: %+v; want one of class io", bad, rep.Errors.First)
	}
	if rep.Errors.Total != 1 || rep.Errors.ByClass.IO != 1 {
		t.Errorf("errors %+v, want one, of class io", rep.Errors)
	}
}

// vanishing deletes, before the first task is published, its last
// entry from the source: gone after the crawl, before the copy.
type vanishing struct {
	Queue
	src  string
	once sync.Once
	gone string
}

func (q *vanishing) Publish(ctx context.Context, t Task) error {
	q.once.Do(func() {
		for i := len(t.Paths) - 1; i >= 0 && q.gone == ""; i-- {
			p := filepath.Join(q.src, string(t.Paths[i]))
			if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && os.Remove(p) == nil {
				q.gone = string(t.Paths[i])
			}
		}
	})
	return q.Queue.Publish(ctx, t)
}

// TestQueueWorkersCountsReachLeader: the leader's report counts every
// error a worker met, past those the worker kept (its MaxErrors), and
// the entries it found vanished.
func TestQueueWorkersCountsReachLeader(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	const bad = 130 // past kpi.DefaultMaxErrors, in one chunk
	must(t, os.MkdirAll(filepath.Join(src, "bad"), 0o755))
	for i := range bad {
		must(t, os.WriteFile(filepath.Join(src, "bad", fmt.Sprintf("f%03d", i)), []byte("unreadable"), 0o644))
	}
	must(t, os.MkdirAll(filepath.Join(src, "ok"), 0o755))
	for i := range 10 {
		must(t, os.WriteFile(filepath.Join(src, "ok", fmt.Sprintf("f%03d", i)), []byte("fine"), 0o644))
	}
	m := latencyfs.Start(t, base, latencyfs.Options{})
	// EACCES, not EIO, which the copier retries with backoff
	must(t, m.SetFaults([]latencyfs.Fault{{Op: "read", Path: "src/bad/*", Errno: syscall.EACCES}}))
	q := &vanishing{Queue: NewMemQueue(time.Minute), src: src}
	startWorkers(t, q, 2)
	rep, err := Sync(context.Background(), m.Dir()+"/src", dst, WithQueue(q), MaxFiles(1000), Workers(2))
	if err != nil || rep.Status != kpi.StatusPartial {
		t.Fatalf("sync: %v, %v; want status partial", err, rep.Status)
	}
	wantBad := int64(bad)
	if strings.HasPrefix(q.gone, "bad/") {
		wantBad--
	}
	if rep.Errors.Total != wantBad || rep.Errors.ByClass.Permission != wantBad || len(rep.Errors.First) != kpi.DefaultMaxErrors {
		t.Errorf("errors: total %d, permission %d, kept %d; want %d, %d, %d", rep.Errors.Total, rep.Errors.ByClass.Permission,
			len(rep.Errors.First), wantBad, wantBad, kpi.DefaultMaxErrors)
	}
	if q.gone == "" || rep.Vanished != 1 || len(rep.VanishedPaths) != 1 || rep.VanishedPaths[0] != q.gone {
		t.Errorf("vanished %d %q, want 1 [%s]", rep.Vanished, rep.VanishedPaths, q.gone)
	}
}

// TestWorkRunsSmallTasksSideBySide: tasks of one batch each (a chunk of
// a few files) are copied side by side, not one after the other: seen at
// the file system as writes in flight at once.
func TestWorkRunsSmallTasksSideBySide(t *testing.T) {
	base := testtree.TempDir(t)
	src := filepath.Join(base, "src")
	must(t, os.MkdirAll(src, 0o755))
	for i := range 32 {
		must(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), []byte("some data"), 0o644))
	}
	m := latencyfs.Start(t, base, latencyfs.Options{})
	must(t, m.SetFaults([]latencyfs.Fault{{Op: "write", Path: "dst/*", Delay: 50 * time.Millisecond}}))
	q := NewMemQueue(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := Work(ctx, q, Workers(8)); err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	rep, err := Sync(context.Background(), src, m.Dir()+"/dst", WithQueue(q), MaxFiles(4), Workers(8))
	if err != nil || rep.Status != kpi.StatusSuccess || len(rep.Partitions) < 8 {
		t.Fatalf("sync: %v, %v, %d partitions", err, rep.Status, len(rep.Partitions))
	}
	exactCopy(t, src, filepath.Join(base, "dst"))
	c, err := m.Counts()
	must(t, err)
	if c.MaxWritesInFlight < 4 {
		t.Errorf("at most %d writes at once: want the one-batch tasks copied side by side", c.MaxWritesInFlight)
	}
}
