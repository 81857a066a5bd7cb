package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
	"github.com/google/go-cmp/cmp"
)

// journal records, in order, what the agent did to its cloud.
type journal struct {
	mu    sync.Mutex
	lines []string
	// completeAfter fails that many Complete calls first: the action
	// only waits once the instance terminates.
	completeAfter int
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, s)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

type jCatalog struct {
	*orchestratetest.MemCatalog
	j       *journal
	onClaim *func() // called at the claim, if set
}

func (c jCatalog) Put(ctx context.Context, r efsync.Record) error {
	c.j.add("put " + string(r.Status) + " host=" + r.Host)
	if r.Status == "" && *c.onClaim != nil {
		(*c.onClaim)()
	}
	return c.MemCatalog.Put(ctx, r)
}

type jLogs struct {
	*orchestratetest.MemLogs
	j *journal
}

func (l jLogs) Open(ctx context.Context, id string) (io.WriteCloser, error) {
	w, err := l.MemLogs.Open(ctx, id)
	return jClose{w, l.j}, err
}

type jClose struct {
	io.WriteCloser
	j *journal
}

func (c jClose) Close() error { c.j.add("log flushed"); return c.WriteCloser.Close() }

type jFleet struct{ j *journal }

func (f jFleet) Start(context.Context, orchestrate.Job) error {
	return errors.New("an agent starts nothing")
}
func (f jFleet) Stop(_ context.Context, id string) error { f.j.add("scale in"); return nil }

type jLifecycle struct{ j *journal }

func (l jLifecycle) Complete(_ context.Context, instance string) error {
	l.j.mu.Lock()
	defer l.j.mu.Unlock()
	if l.j.completeAfter > 0 {
		l.j.completeAfter--
		return errors.New("ValidationError: No active Lifecycle Action found")
	}
	l.j.lines = append(l.j.lines, "complete "+instance)
	return nil
}

// fakeCloud is a cloud in memory, and what it saw.
type fakeCloud struct {
	cloud
	cat  *orchestratetest.MemCatalog
	logs *orchestratetest.MemLogs
	j    *journal
	// onClaim is called when the agent claims its job.
	onClaim func()
	// stateDir is where agent stop reaches the agent.
	stateDir string
}

func newFakeCloud(t *testing.T) *fakeCloud {
	f := &fakeCloud{stateDir: t.TempDir(), cat: orchestratetest.NewMemCatalog(), logs: orchestratetest.NewMemLogs(), j: &journal{completeAfter: 2}}
	f.cloud = cloud{Catalog: jCatalog{f.cat, f.j, &f.onClaim}, Logs: jLogs{f.logs, f.j}, Fleet: jFleet{f.j},
		Lifecycle: jLifecycle{f.j}, Instance: "i-0abc"}
	return f
}

// schedule writes a job's record as the orchestrator does, and returns
// its id.
func (f *fakeCloud) schedule(t *testing.T, label, src, repo string) string {
	t.Helper()
	now := time.Now()
	id := efsync.NewBackupID(now)
	if err := f.cat.Put(t.Context(), efsync.Record{ID: id, Label: label, Source: src, Repo: repo, Start: now.UTC()}); err != nil {
		t.Fatal(err)
	}
	return id
}

// runAgent runs the job with e's context, and returns its exit code,
// output and the job's record.
func (f *fakeCloud) run(t *testing.T, ctx context.Context, id string) (int, string, efsync.Record) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	e := &env{ctx: ctx, stop: stop, stdout: &out, stderr: &errOut}
	code := runJob(e, f.cloud, jobOptions{Window: time.Hour, CompleteWait: 10 * time.Second, Poll: time.Millisecond,
		StateDir: f.stateDir, Engine: efsync.Options{Grace: 100 * time.Millisecond}})
	rec, err := f.cat.Get(t.Context(), id)
	if err != nil && id != "" {
		t.Fatal(err)
	}
	return code, out.String() + errOut.String(), rec
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wantFlushOrder checks the order of the end: the log flushed before the
// record with a status, then the group scaled in and the lifecycle
// action completed (after the tries it refused).
func wantFlushOrder(t *testing.T, f *fakeCloud, status kpi.Status) {
	t.Helper()
	want := []string{"put  host=i-0abc", "log flushed", "put " + string(status) + " host=i-0abc", "scale in", "complete i-0abc"}
	if d := cmp.Diff(want, f.j.get()); d != "" {
		t.Errorf("the agent's steps (-want +got):\n%s", d)
	}
}

// TestRunBackup runs a backup job to its end: a snapshot, the record
// Success, claimed by the instance, the log in the LogStore, then the
// release.
func TestRunBackup(t *testing.T) {
	dir := t.TempDir()
	src, repo := filepath.Join(dir, "src"), filepath.Join(dir, "repo")
	writeFiles(t, src, map[string]string{"a": "1", "d/b": "2"})
	f := newFakeCloud(t)
	id := f.schedule(t, "daily", src, repo)
	code, out, rec := f.run(t, t.Context(), id)
	if code != 0 || rec.Status != kpi.StatusSuccess || rec.Host != "i-0abc" || rec.Snapshot == "" {
		t.Fatalf("exit %d, record %s %q host %s snapshot %q\n%s", code, rec.Status, rec.Reason, rec.Host, rec.Snapshot, out)
	}
	if b, err := os.ReadFile(filepath.Join(rec.Snapshot, "d", "b")); err != nil || string(b) != "2" {
		t.Errorf("snapshot: %q %v", b, err)
	}
	if log := f.logs.Text(id); !strings.Contains(log, `"msg":"job ended"`) || !strings.Contains(log, `"by":"agent"`) {
		t.Errorf("log:\n%s", log)
	}
	wantFlushOrder(t, f, kpi.StatusSuccess)
}

// TestRunFailedFlushes: a job whose source is missing fails, and still
// leaves its log, its Failed record saying why, and the instance
// released.
func TestRunFailedFlushes(t *testing.T) {
	dir := t.TempDir()
	f := newFakeCloud(t)
	id := f.schedule(t, "daily", filepath.Join(dir, "gone"), filepath.Join(dir, "repo"))
	code, out, rec := f.run(t, t.Context(), id)
	if code == 0 || rec.Status != kpi.StatusFailed || !strings.Contains(rec.Reason, "gone") {
		t.Fatalf("exit %d, record %s %q\n%s", code, rec.Status, rec.Reason, out)
	}
	if log := f.logs.Text(id); !strings.Contains(log, `"status":"failed"`) {
		t.Errorf("log:\n%s", log)
	}
	wantFlushOrder(t, f, kpi.StatusFailed)
}

// TestRunStopped: a job stopped by `agent stop --id ID` (the SSM stop's
// command, on the state directory's socket; another id is refused) as it
// claims its job, before
// it could copy, is recorded Incomplete, with exit code 3, flushed and
// released all the same. SIGTERM does what agent stop does: it is the
// env's first signal.
func TestRunStopped(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFiles(t, src, map[string]string{"a": "1"})
	f := newFakeCloud(t)
	id := f.schedule(t, "daily", src, filepath.Join(dir, "repo"))
	f.onClaim = func() {
		if code, _, errOut := agent("stop", "--state-dir", f.stateDir, "--id", "20300101T020000.000Z-0000"); code != 1 || !strings.Contains(errOut, "runs job "+id) {
			t.Errorf("agent stop --id of another job: exit %d %s", code, errOut)
		}
		if code, out, errOut := agent("stop", "--state-dir", f.stateDir, "--id", id); code != 0 {
			t.Errorf("agent stop --id %s: exit %d %s%s", id, code, out, errOut)
		}
	}
	code, out, rec := f.run(t, t.Context(), id)
	if code != 3 || rec.Status != kpi.StatusIncomplete || rec.Snapshot != "" {
		t.Fatalf("exit %d, record %s %q snapshot %q\n%s", code, rec.Status, rec.Reason, rec.Snapshot, out)
	}
	wantFlushOrder(t, f, kpi.StatusIncomplete)
}

// TestRunRestore restores a directory of a snapshot into a new directory
// beside the live files: the live files are untouched, nothing is
// deleted, and a second restore onto the same target is refused.
func TestRunRestore(t *testing.T) {
	dir := t.TempDir()
	src, repo := filepath.Join(dir, "src"), filepath.Join(dir, "repo")
	writeFiles(t, src, map[string]string{"projects/alpha/x": "old x", "projects/alpha/y": "y", "other": "o"})
	f := newFakeCloud(t)
	backupID := f.schedule(t, "daily", src, repo)
	if code, out, _ := f.run(t, t.Context(), backupID); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	writeFiles(t, src, map[string]string{"projects/alpha/x": "new x", "projects/alpha/z": "made after"})
	target := filepath.Join(src, "restored", "alpha")
	f.j.lines, f.j.completeAfter = nil, 0
	id := f.schedule(t, restoreLabel, backupID+"/projects/alpha", target)
	code, out, rec := f.run(t, t.Context(), id)
	if code != 0 || rec.Status != kpi.StatusSuccess || rec.Files == 0 {
		t.Fatalf("restore: exit %d, record %s %q files %d\n%s", code, rec.Status, rec.Reason, rec.Files, out)
	}
	for p, want := range map[string]string{"restored/alpha/x": "old x", "restored/alpha/y": "y",
		"projects/alpha/x": "new x", "projects/alpha/z": "made after", "other": "o"} {
		if b, err := os.ReadFile(filepath.Join(src, p)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", p, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(target, "z")); err == nil {
		t.Error("the restore has a file the snapshot lacks")
	}
	id2 := f.schedule(t, restoreLabel, backupID+"/projects", target)
	if code, _, rec := f.run(t, t.Context(), id2); code == 0 || rec.Status != kpi.StatusFailed {
		t.Errorf("a restore onto a full target: exit %d, %s", code, rec.Status)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "x")); string(b) != "old x" {
		t.Errorf("the refused restore wrote: x is %q", b)
	}
}

// TestRunNoJob: with no job for it, the agent releases its instance and
// exits 0.
func TestRunNoJob(t *testing.T) {
	f := newFakeCloud(t)
	code, out, _ := f.run(t, t.Context(), "")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if d := cmp.Diff([]string{"scale in", "complete i-0abc"}, f.j.get()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestPickJob(t *testing.T) {
	now := time.Date(2030, 3, 1, 3, 0, 0, 0, time.UTC)
	start := now.Add(-time.Hour + time.Second)
	tests := []struct {
		name   string
		recs   []efsync.Record
		shared bool
		want   string // "" for none
	}{
		{"unclaimed", []efsync.Record{{ID: "a", Start: start}}, false, "a"},
		{"newest unclaimed", []efsync.Record{{ID: "a", Start: start}, {ID: "b", Start: start}}, false, "b"},
		{"mine first", []efsync.Record{{ID: "a", Start: start, Host: "i-1"}, {ID: "b", Start: start}}, false, "a"},
		{"another's", []efsync.Record{{ID: "a", Start: start, Host: "i-2"}}, false, ""},
		{"another's, shared", []efsync.Record{{ID: "a", Start: start, Host: "i-2"}}, true, "a"},
		{"ended", []efsync.Record{{ID: "a", Start: start, Status: kpi.StatusSuccess}}, false, ""},
		{"ended, shared", []efsync.Record{{ID: "a", Start: start, Host: "i-2", Status: kpi.StatusSuccess}}, true, ""},
		{"past its window", []efsync.Record{{ID: "a", Start: now.Add(-time.Hour)}}, false, ""},
		{"past its window, shared", []efsync.Record{{ID: "a", Start: now.Add(-time.Hour), Host: "i-2"}}, true, ""},
		{"none", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pickJob(tt.recs, "i-1", now, time.Hour, tt.shared)
			if ok != (tt.want != "") || got.ID != tt.want {
				t.Errorf("got %q %v, want %q", got.ID, ok, tt.want)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	aws := []string{"--aws", "--table", "t", "--bucket", "b", "--group", "g", "--hook", "h"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no --aws", []string{"--window", "3h"}, "--aws is required"},
		{"missing resources", []string{"--aws", "--table", "t", "--window", "3h"}, "--aws needs [--bucket --group --hook]"},
		{"no window", aws, "--window 0s"},
		{"an argument", append(slices.Clone(aws), "--window", "3h", "/src"), `unexpected argument "/src"`},
		{"max duration", append(slices.Clone(aws), "--window", "3h", "--max-duration", "1h"), "--max-duration"},
		{"not on EC2", append(slices.Clone(aws), "--window", "3h"), "instance id: "},
	}
	t.Setenv("AWS_REGION", "us-east-1") // no region, nor instance id, from this machine's metadata
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := agent(append([]string{"run"}, tt.args...)...)
			if code != 1 || !strings.Contains(stderr, tt.wantErr) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("exit %d, stderr %q, want 1 and one line with %q", code, stderr, tt.wantErr)
			}
		})
	}
}

// TestStateDirWithoutHome: the SSM stop's agent stop runs as root with no
// HOME; it must find agent run's socket where the unit's --state-dir puts
// it, /var/lib/efsync.
func TestStateDirWithoutHome(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "")
	dir, err := stateDir("")
	switch {
	case os.Geteuid() == 0 && (err != nil || dir != systemStateDir):
		t.Errorf("root without HOME: %q, %v; want %s", dir, err, systemStateDir)
	case os.Geteuid() != 0 && err == nil:
		t.Errorf("a user without HOME: %q, want an error", dir)
	}
}
