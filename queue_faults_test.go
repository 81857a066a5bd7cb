package efsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sys/unix"
)

// recQueue records the tasks published, and fails the first failReport
// Reports, as a throttled or unreachable SQS would.
type recQueue struct {
	Queue
	mu         sync.Mutex
	tasks      []Task
	failReport int
}

func (q *recQueue) Publish(ctx context.Context, t Task) error {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	q.mu.Unlock()
	return q.Queue.Publish(ctx, t)
}

func (q *recQueue) Report(ctx context.Context, c Completion) error {
	q.mu.Lock()
	fail := q.failReport > 0
	q.failReport -= min(q.failReport, 1)
	q.mu.Unlock()
	if fail {
		return errors.New("SendMessage: throttled")
	}
	return q.Queue.Report(ctx, c)
}

// TestQueueReportFailureRedelivers: a worker whose report of a chunk
// fails leaves the task to the queue, unacknowledged, and it is copied
// and reported again; the run ends. A worker acknowledged its tasks
// before it reported them: that chunk was lost, and the leader waited
// for it to its deadline.
func TestQueueReportFailureRedelivers(t *testing.T) {
	src, dst := queueTree(t)
	q := &recQueue{Queue: NewMemQueue(300 * time.Millisecond), failReport: 1}
	startWorkers(t, q, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := Sync(ctx, src, dst, WithQueue(q), Delete(), MaxFiles(16), Workers(2))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, status %v", err, rep.Status)
	}
	sameAs(t, "the copy", scan(t, src), dst)
}

// TestQueueWorkerRefusesAnotherSource: a worker whose source path is
// another tree than the leader's, the empty mount point of a file system
// it has not mounted, copies nothing from it, and each of its chunks is
// reported failed, naming why: the backup is not a success. It found
// every entry vanished, and the backup was a success without them.
func TestQueueWorkerRefusesAnotherSource(t *testing.T) {
	base, src := repoTree(t)
	q := NewMemQueue(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { Work(ctx, srcQueue{q, t.TempDir()}, Workers(2)) })
	rec, err := Backup(context.Background(), src, filepath.Join(base, "repo"), BackupOptions{Options: Options{Queue: q, MaxFiles: 8}})
	if err != nil || rec.Status == kpi.StatusSuccess || len(rec.Report.Errors.First) == 0 ||
		!strings.Contains(rec.Report.Errors.First[0].Message, "not mounted?") || rec.Report.Errors.First[0].Path == "" {
		t.Fatalf("backup: %v, status %s (%s), errors %+v; want the worker's refusal, by chunk", err, rec.Status, rec.Reason, rec.Report.Errors.First)
	}
	if rec.Report.Errors.Total < rec.Files/2 {
		t.Errorf("%d errors counted for %d entries, each chunk counted once", rec.Report.Errors.Total, rec.Files)
	}
}

// srcQueue hands its worker tasks with Src replaced by src.
type srcQueue struct {
	Queue
	src string
}

type srcDelivery struct {
	Delivery
	t Task
}

func (d srcDelivery) Task() Task { return d.t }

func (q srcQueue) Receive(ctx context.Context) (Delivery, error) {
	d, err := q.Queue.Receive(ctx)
	if err != nil {
		return d, err
	}
	t := d.Task()
	t.Src = q.src
	return srcDelivery{d, t}, nil
}

// TestQueueStaleTaskAfterBackup: SQS may deliver a task again after its
// run ended and its state (the sums directory) is gone: the worker
// reports it, which no leader takes, acknowledges it and goes on. It
// returned the error, so that every worker that received the task exited.
func TestQueueStaleTaskAfterBackup(t *testing.T) {
	base, src := repoTree(t)
	q := &recQueue{Queue: NewMemQueue(time.Minute)}
	stop := startWorkers(t, q, 2)
	backupOK(t, src, filepath.Join(base, "repo"), BackupOptions{Options: Options{Queue: q, MaxFiles: 8}})
	stop()
	var dup *Task
	for i := range q.tasks {
		if q.tasks[i].List == "" && len(q.tasks[i].Paths) > 0 && q.tasks[i].Copy.Sums != "" {
			dup = &q.tasks[i]
			break
		}
	}
	if dup == nil {
		t.Fatal("no inline task with sums published")
	}
	q2 := NewMemQueue(100 * time.Millisecond)
	must(t, q2.Publish(context.Background(), *dup))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := Work(ctx, q2, Workers(2)); err != nil {
		t.Errorf("Work on a stale task: %v", err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer rcancel()
	if d, err := q2.Receive(rctx); err == nil {
		t.Errorf("the stale task of chunk %d is still in the queue", d.Task().Chunk)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
	defer ccancel()
	if c, err := q2.Completion(cctx); err != nil || c.Err == "" {
		t.Errorf("completion %+v (%v), want one saying why the chunk was not copied", c, err)
	}
}

// TestQueuedManifestPrefersSum: a file whose content changed but kept
// its size and mtime, its mode changed too, so that it is copied, not
// linked: the manifest takes the hash of the copy's read, not the parent
// snapshot's, and a full verify passes.
func TestQueuedManifestPrefersSum(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(map[bool]string{true: "through a queue", false: "one host"}[queued], func(t *testing.T) {
			base := t.TempDir()
			src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
			must(t, os.MkdirAll(src, 0o755))
			f := filepath.Join(src, "f")
			must(t, os.WriteFile(f, bytes.Repeat([]byte("a"), 4096), 0o644))
			mt := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			must(t, os.Chtimes(f, mt, mt))
			bo := BackupOptions{}
			if queued {
				bo.Queue = NewMemQueue(time.Minute)
				startWorkers(t, bo.Queue, 1)
			}
			backupOK(t, src, repo, bo)
			must(t, os.WriteFile(f, bytes.Repeat([]byte("b"), 4096), 0o600))
			must(t, os.Chmod(f, 0o600))
			must(t, os.Chtimes(f, mt, mt))
			second := backupOK(t, src, repo, bo)
			got, err := os.ReadFile(filepath.Join(second.Snapshot, "f"))
			must(t, err)
			if got[0] != 'b' {
				t.Fatalf("the snapshot holds %q...: not the new content", got[:1])
			}
			r, err := Verify(context.Background(), repo, second.ID, VerifyOptions{Full: true})
			if err != nil || r.Status != kpi.StatusSuccess {
				t.Errorf("full verify of the second snapshot: %v, %+v", err, r)
			}
		})
	}
}

// TestReadSumsAllOrNothing: a damaged sums file gives the manifest none
// of its records: its chunk's files are read back, all of them.
func TestReadSumsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "1-abc")
	w, err := manifest.Create(p, manifest.Options{TempDir: dir})
	must(t, err)
	for i := range 20000 {
		must(t, w.Add(manifest.Record{Path: fmt.Sprintf("d/f%06d", i), Type: manifest.TypeFile, Size: int64(i), HasHash: true, Mode: needHash}))
	}
	must(t, w.Close())
	st, err := os.Stat(p)
	must(t, err)
	must(t, os.Truncate(p, st.Size()/2))
	added := 0
	if err := readSums(p, func(manifest.Record) error { added++; return nil }); err == nil || added > 0 {
		t.Errorf("a truncated sums file: %v, after passing %d records on", err, added)
	}
}

// TestQueueWorkersCopyAsTheLeader: a worker copies as the leader's
// options say, not its own: with the leader's NoXattrs, a file's xattr
// stays behind, though the worker would copy it.
func TestQueueWorkersCopyAsTheLeader(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	f := filepath.Join(src, "f")
	must(t, os.WriteFile(f, []byte("data"), 0o644))
	if err := unix.Setxattr(f, "user.efsync-test", []byte("v"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	q := NewMemQueue(time.Minute)
	startWorkers(t, q, 1)
	rep, err := Sync(context.Background(), src, dst, WithQueue(q), func(o *Options) { o.NoXattrs = true })
	if err != nil || rep.Status != kpi.StatusSuccess || rep.Files.Created != 1 {
		t.Fatalf("sync: %v, %+v", err, rep)
	}
	if n, err := unix.Getxattr(filepath.Join(dst, "f"), "user.efsync-test", nil); err == nil {
		t.Errorf("the worker copied the xattr (%d bytes) the leader's NoXattrs leaves out", n)
	}
}

// reportLog records who reported which chunk.
type reportLog struct {
	Queue
	mu sync.Mutex
	by map[string][]int // worker: chunks
}

func (q *reportLog) Report(ctx context.Context, c Completion) error {
	q.mu.Lock()
	q.by[c.Worker] = append(q.by[c.Worker], c.Chunk)
	q.mu.Unlock()
	return q.Queue.Report(ctx, c)
}

// TestQueueStaleWorkerStops: a worker that lost its task (its extend
// came too late: the task reappeared and another worker took it) stops
// its copy when the queue says so, and never reports the chunk, which the
// other worker copied: it copied on beside it, past the leader's end of
// the run. (Both copies wait for the held read: the kernel reads a page
// once, for every reader.)
func TestQueueStaleWorkerStops(t *testing.T) {
	backing := testtree.TempDir(t)
	must(t, os.MkdirAll(filepath.Join(backing, "src"), 0o755))
	must(t, os.WriteFile(filepath.Join(backing, "src", "f"), bytes.Repeat([]byte("efsync "), 1<<17), 0o644))
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "read", Path: "src/f", Delay: 1500 * time.Millisecond, Times: 1}, // the first reader: worker a
	}})
	q := &reportLog{Queue: NewMemQueue(100 * time.Millisecond), by: map[string][]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	// a extends too late, b in time; each copies one task at a time.
	for i, w := range []struct {
		id   string
		beat time.Duration
	}{{"a", 500 * time.Millisecond}, {"b", 20 * time.Millisecond}} {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 50 * time.Millisecond) // a takes the task first
			if err := Work(ctx, q, Workers(1), func(o *Options) { o.Heartbeat, o.WorkerID = w.beat, w.id }); err != nil {
				t.Errorf("worker %s: %v", w.id, err)
			}
		})
	}
	rep, err := Sync(context.Background(), m.Dir()+"/src", m.Dir()+"/dst", WithQueue(q))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep.Status)
	}
	time.Sleep(2 * time.Second) // a's held read ends, then its copy
	cancel()
	wg.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.by["a"]) != 0 || len(q.by["b"]) != 1 {
		t.Errorf("reports by worker %v, want one by b, none by a", q.by)
	}
	// The data, not the root's mtime: a removes its temporary file once
	// its held read ends, which may be after the leader set the root's.
	want, _ := os.ReadFile(filepath.Join(backing, "src", "f"))
	if got, err := os.ReadFile(filepath.Join(backing, "dst", "f")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("dst/f: %d bytes (%v), want the %d of src/f", len(got), err, len(want))
	}
	ents, _ := os.ReadDir(filepath.Join(backing, "dst"))
	if len(ents) != 1 {
		t.Errorf("dst holds %d entries, want f alone: %v", len(ents), ents)
	}
}

// TestQueueFullDestinationStopsRun: a worker's copy that finds the
// destination full stops the worker, and its report stops the leader's
// run, failed, saying why, as a copier's does on one host. The leader
// used to wait for the chunk to its deadline, the task going from worker
// to worker.
func TestQueueFullDestinationStopsRun(t *testing.T) {
	base := testtree.TempDir(t)
	must(t, os.MkdirAll(filepath.Join(base, "src", "d"), 0o755))
	for i := range 20 {
		must(t, os.WriteFile(filepath.Join(base, "src", "d", fmt.Sprint("f", i)), bytes.Repeat([]byte("x"), 8192), 0o644))
	}
	must(t, os.MkdirAll(filepath.Join(base, "dst"), 0o755))
	m := latencyfs.Start(t, base, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/*/*", Errno: syscall.ENOSPC},
	}})
	q := NewMemQueue(time.Minute)
	werr := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { werr <- Work(ctx, q, Workers(2)) }()
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	rep, err := Sync(sctx, m.Dir()+"/src", m.Dir()+"/dst", WithQueue(q), MaxFiles(4))
	if err == nil || rep.Status != kpi.StatusFailed || !strings.Contains(err.Error(), "no space") || sctx.Err() != nil {
		t.Fatalf("sync: %v, status %v; want it failed for the full destination, before its deadline", err, rep.Status)
	}
	var fe *transfer.FatalError
	if err := <-werr; !errors.As(err, &fe) {
		t.Errorf("the worker: %v, want it stopped by a *transfer.FatalError", err)
	}
}
