package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/efsync/efsync/orchestrate/aws"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
	"github.com/google/go-cmp/cmp"
)

// calls records what the handler asked of its backends, as "Op arg"
// lines, in order.
type calls struct {
	mu   sync.Mutex
	list []string
	jobs []orchestrate.Job
	fail map[string]error // by op
}

func (c *calls) add(op, arg string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, op+" "+arg)
	return c.fail[op]
}

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.list
	c.list = nil
	return l
}

type fleet struct{ *calls }

func (f fleet) Start(_ context.Context, job orchestrate.Job) error {
	f.mu.Lock()
	f.jobs = append(f.jobs, job)
	f.mu.Unlock()
	return f.add("Fleet.Start", job.ID)
}
func (f fleet) Stop(_ context.Context, id string) error { return f.add("Fleet.Stop", id) }

type commander struct{ *calls }

func (c commander) Stop(_ context.Context, id string) error { return c.add("Commander.Stop", id) }

type timer struct{ *calls }

func (t timer) Set(_ context.Context, id string, at time.Time) error {
	return t.add("Timer.Set", id+" "+at.UTC().Format(time.RFC3339))
}
func (t timer) Cancel(_ context.Context, id string) error { return t.add("Timer.Cancel", id) }

type lifecycle struct{ *calls }

func (l lifecycle) Complete(_ context.Context, instance string) error {
	return l.add("Lifecycle.Complete", instance)
}

// world is a handler over recording backends, at a clock the test sets.
type world struct {
	h     *Handler
	c     *calls
	cat   *orchestratetest.MemCatalog
	notes *orchestratetest.Recorder
	now   time.Time
}

const instance = "i-0598c7d356eba48d7"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{c: &calls{fail: map[string]error{}}, cat: orchestratetest.NewMemCatalog(), notes: &orchestratetest.Recorder{},
		now: time.Date(2030, 3, 1, 2, 0, 3, 0, time.UTC)}
	cfg, err := configFrom(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(cfg, Deps{Lifecycle: lifecycle{w.c}, Backends: orchestrate.Backends{
		Fleet: fleet{w.c}, Commander: commander{w.c}, Timer: timer{w.c}, Catalog: w.cat,
		Logs: orchestratetest.NewMemLogs(), Notifier: w.notes, Metrics: w.notes}},
		HandlerOptions{Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	w.h = h
	return w
}

// invoke sends the payload of testdata/file, or raw JSON.
func (w *world) invoke(t *testing.T, fileOrJSON string) (Result, error) {
	t.Helper()
	raw := []byte(fileOrJSON)
	if strings.HasSuffix(fileOrJSON, ".json") {
		var err error
		if raw, err = os.ReadFile(filepath.Join("testdata", fileOrJSON)); err != nil {
			t.Fatal(err)
		}
	}
	return w.h.Handle(t.Context(), raw)
}

// agent writes the record of id as the agent does: claimed by instance,
// with status (or none: just claimed).
func (w *world) agent(t *testing.T, id string, status kpi.Status) {
	t.Helper()
	rec, err := w.cat.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	rec.Host, rec.Status = instance, status
	if status != "" {
		rec.Stop, rec.Snapshot = w.now, "/mnt/efsync/backup/daily/"+id
	}
	if err := w.cat.Put(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
}

func (w *world) record(t *testing.T, id string) efsync.Record {
	t.Helper()
	rec, err := w.cat.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func wantCalls(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: calls (-want +got):\n%s", step, d)
	}
}

// TestIDPerStart invokes one Handler value with two nights' scheduled
// events: each start makes its own backup id, at its own time. The seed
// made its id once per Lambda container, so a warm container's second
// night reused the first's.
func TestIDPerStart(t *testing.T) {
	w := newWorld(t)
	var got []string
	for night := range 2 {
		w.now = time.Date(2030, 3, 1+night, 2, 0, 3, 0, time.UTC)
		ev := strings.Replace(readFile(t, "scheduled.json"), "2030-03-01T02:00:00Z", w.now.Add(-3*time.Second).Format(time.RFC3339), 1)
		res, err := w.invoke(t, ev)
		if err != nil || len(res.IDs) != 1 {
			t.Fatalf("night %d: %+v, %v", night, res, err)
		}
		id := res.IDs[0]
		if !strings.HasPrefix(id, w.now.Format("20060102")+"T020000.000Z-") {
			t.Errorf("night %d: id %s, not made at the scheduled time", night, id)
		}
		got = append(got, id)
		w.agent(t, id, kpi.StatusSuccess)
		if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
			t.Fatal(err)
		}
	}
	if got[0] == got[1] {
		t.Errorf("two starts made one id, %s", got[0])
	}
	if j := w.c.jobs; len(j) != 2 || j[0].ID != got[0] || j[1].ID != got[1] {
		t.Errorf("Fleet.Start got %+v, want the jobs %v", j, got)
	}
}

// TestNightHitsWindow drives a night whose backup outlasts its window:
// start (the timer at the window's end less 15 minutes, the group to 1),
// window end (the group to 0), the terminate lifecycle action (the SSM
// stop, and no completion by the handler), the agent's Incomplete
// record, then the instance gone: metrics, a notice, the record
// reported. A repeated terminate event does nothing more.
func TestNightHitsWindow(t *testing.T) {
	w := newWorld(t)
	res, err := w.invoke(t, "scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	id := res.IDs[0]
	wantCalls(t, "start", w.c.take(), "Timer.Set "+id+" 2030-03-01T04:45:00Z", "Fleet.Start "+id)
	if j := w.c.jobs[0]; !j.Deadline.Equal(time.Date(2030, 3, 1, 5, 0, 0, 0, time.UTC)) || j.Plan.Source != "/mnt/efsync/source" {
		t.Errorf("job %+v", j)
	}
	w.agent(t, id, "") // claims its job
	w.now = time.Date(2030, 3, 1, 4, 45, 0, 0, time.UTC)
	if _, err := w.invoke(t, `{"efsyncWindowEnd":"`+id+`"}`); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "window end", w.c.take(), "Fleet.Stop "+id)
	if _, err := w.invoke(t, "terminate_action.json"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "lifecycle action", w.c.take(), "Commander.Stop "+id)
	w.agent(t, id, kpi.StatusIncomplete)
	if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "terminated", w.c.take(), "Timer.Cancel "+id, "Fleet.Stop "+id)
	if n := w.notes.Notices(); len(n) != 1 || n[0].ID != id || n[0].Status != kpi.StatusIncomplete {
		t.Errorf("notices %+v, want one, incomplete", n)
	}
	if p := w.notes.Published(); len(p) != 1 || p[0].ID != id {
		t.Errorf("metrics %+v", p)
	}
	if !reported(w.record(t, id)) {
		t.Error("record not marked reported")
	}
	if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "terminated again", w.c.take())
	if len(w.notes.Notices()) != 1 {
		t.Error("a repeated terminate event sent a second notice")
	}
}

// TestEarlyFinish: the agent wrote Success and scaled its group in. The
// lifecycle action sends no SSM stop; the handler completes the action
// (harmless if the agent did too); once the instance is gone, metrics
// and no notice.
func TestEarlyFinish(t *testing.T) {
	w := newWorld(t)
	res, err := w.invoke(t, "scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	id := res.IDs[0]
	w.c.take()
	w.agent(t, id, kpi.StatusSuccess)
	if _, err := w.invoke(t, "terminate_action.json"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "lifecycle action", w.c.take(), "Lifecycle.Complete "+instance)
	if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "terminated", w.c.take(), "Timer.Cancel "+id, "Fleet.Stop "+id)
	if n := w.notes.Notices(); len(n) != 0 {
		t.Errorf("a success sent notices %+v", n)
	}
	if p := w.notes.Published(); len(p) != 1 || p[0].Status != kpi.StatusSuccess {
		t.Errorf("metrics %+v", p)
	}
}

// TestStopFailsCompletes: when the SSM stop can't be sent, the handler
// completes the lifecycle action itself, and fails (Lambda retries); the
// instance goes, and its job is buried Incomplete with a notice.
func TestStopFailsCompletes(t *testing.T) {
	w := newWorld(t)
	res, _ := w.invoke(t, "scheduled.json")
	id := res.IDs[0]
	w.agent(t, id, "")
	w.c.take()
	w.c.fail["Commander.Stop"] = errors.New("InvalidInstanceId")
	if _, err := w.invoke(t, "terminate_action.json"); err == nil || !strings.Contains(err.Error(), "InvalidInstanceId") {
		t.Errorf("err %v, want the stop's", err)
	}
	wantCalls(t, "lifecycle action", w.c.take(), "Commander.Stop "+id, "Lifecycle.Complete "+instance)
	if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
		t.Fatal(err)
	}
	rec := w.record(t, id)
	if rec.Status != kpi.StatusIncomplete || !strings.Contains(rec.Reason, instance+" terminated") {
		t.Errorf("record %s %q, want incomplete, the instance gone", rec.Status, rec.Reason)
	}
	if n := w.notes.Notices(); len(n) != 1 {
		t.Errorf("notices %+v, want one", n)
	}
}

// TestOtherGroup ignores the instances of other groups.
func TestOtherGroup(t *testing.T) {
	w := newWorld(t)
	res, _ := w.invoke(t, "scheduled.json")
	w.agent(t, res.IDs[0], "")
	w.c.take()
	for _, f := range []string{"terminate_action.json", "terminate_successful.json"} {
		r, err := w.invoke(t, strings.ReplaceAll(readFile(t, f), "efsync-agents", "web-servers"))
		if err != nil || !strings.Contains(r.Note, "ignored") {
			t.Errorf("%s: %+v %v", f, r, err)
		}
	}
	wantCalls(t, "other group", w.c.take())
}

// TestRepeatedStart: EventBridge delivers a scheduled event at least
// once, and Lambda retries a failed invocation. A second delivery finds
// its slot's backup and succeeds, without a second backup nor an error
// (which Lambda would retry); so does one that loses the race for the
// slot to a concurrent delivery: orchestrate/aws's Catalog refuses its
// record with ErrClaimed.
func TestRepeatedStart(t *testing.T) {
	w := newWorld(t)
	first, err := w.invoke(t, "scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	w.agent(t, first.IDs[0], "")
	w.now = w.now.Add(time.Minute)
	res, err := w.invoke(t, "scheduled.json")
	if err != nil || !slices.Equal(res.IDs, first.IDs) || !strings.Contains(res.Note, "started already") {
		t.Errorf("repeated start: %+v, %v; want a success about %v", res, err, first.IDs)
	}
	if len(w.c.jobs) != 1 {
		t.Errorf("Fleet.Start got %d jobs, want 1", len(w.c.jobs))
	}

	w = newWorld(t)
	w.h.d.Backends.Catalog = claimedCatalog{w.cat}
	if w.h.backup, err = w.h.orchestrator(w.h.cfg.Plan); err != nil {
		t.Fatal(err)
	}
	res, err = w.invoke(t, "scheduled.json")
	if err != nil || !strings.Contains(res.Note, "started already") || len(w.c.jobs) != 0 {
		t.Errorf("start that lost its slot: %+v, %v, jobs %v; want a success that starts nothing", res, err, w.c.jobs)
	}
}

// claimedCatalog refuses every new running record, as orchestrate/aws's
// Catalog does one whose slot another record holds.
type claimedCatalog struct{ *orchestratetest.MemCatalog }

func (c claimedCatalog) Put(ctx context.Context, r efsync.Record) error {
	if r.Status == "" {
		return fmt.Errorf("catalog: put %s: %w", r.ID, aws.ErrClaimed)
	}
	return c.MemCatalog.Put(ctx, r)
}

// TestStartWhileRunning refuses a start while a job runs within its
// window, and buries one an hour past its window first.
func TestStartWhileRunning(t *testing.T) {
	w := newWorld(t)
	res, _ := w.invoke(t, "scheduled.json")
	id := res.IDs[0]
	w.agent(t, id, "")
	w.now = w.now.Add(2 * time.Hour)
	if _, err := w.invoke(t, strings.Replace(readFile(t, "scheduled.json"), "T02:00", "T04:00", 1)); err == nil || !strings.Contains(err.Error(), "job "+id+" still runs") {
		t.Errorf("second start: %v, want refused", err)
	}
	w.now = w.now.Add(24 * time.Hour)
	res, err := w.invoke(t, strings.Replace(readFile(t, "scheduled.json"), "03-01", "03-02", 1))
	if err != nil || res.IDs[0] == id {
		t.Fatalf("next night: %+v %v", res, err)
	}
	if rec := w.record(t, id); rec.Status != kpi.StatusIncomplete || !reported(rec) {
		t.Errorf("the stale job: %s, reported %v", rec.Status, reported(rec))
	}
}

// TestRestore starts a restore job of a backup's snapshot: its record
// names the snapshot and path, and a target under the source; bad
// requests are refused with one line.
func TestRestore(t *testing.T) {
	w := newWorld(t)
	const backup = "20300301T020000.000Z-1a2b3c"
	put := func(r efsync.Record) {
		if err := w.cat.Put(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	put(efsync.Record{ID: backup, Label: "daily", Status: kpi.StatusSuccess, Snapshot: "/mnt/efsync/backup/daily/" + backup,
		Phases: []kpi.Phase{{Name: orchestrate.PhaseReported}}})
	put(efsync.Record{ID: "20300228T020000.000Z-0000aa", Label: "daily", Status: kpi.StatusIncomplete,
		Phases: []kpi.Phase{{Name: orchestrate.PhaseReported}}})
	for _, tt := range []struct{ name, req, wantErr string }{
		{"unknown backup", `{"restore":{"id":"20300101T020000.000Z-ffffff","target":"r"}}`, "no backup 20300101T020000.000Z-ffffff"},
		{"backup without a snapshot", `{"restore":{"id":"20300228T020000.000Z-0000aa","target":"r"}}`, "made no snapshot"},
	} {
		if _, err := w.invoke(t, tt.req); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	wantCalls(t, "refused restores", w.c.take())
	res, err := w.invoke(t, "restore.json")
	if err != nil {
		t.Fatal(err)
	}
	j := w.c.jobs[0]
	want := orchestrate.Plan{Label: restoreLabel, Source: backup + "/projects/alpha", Repo: "/mnt/efsync/source/restored/alpha-20300302",
		Window: 3 * time.Hour, Margin: 15 * time.Minute, NotifySuccess: true, Agents: 1}
	if d := cmp.Diff(want, j.Plan); d != "" || j.ID != res.IDs[0] {
		t.Errorf("restore job %s (-want +got):\n%s", j.ID, d)
	}
	if _, err := w.invoke(t, "restore.json"); err == nil || !strings.Contains(err.Error(), "still runs") {
		t.Errorf("a second restore while one runs: %v", err)
	}
	w.agent(t, j.ID, kpi.StatusSuccess)
	if _, err := w.invoke(t, "terminate_successful.json"); err != nil {
		t.Fatal(err)
	}
	if n := w.notes.Notices(); len(n) != 1 || n[0].Label != restoreLabel || n[0].Status != kpi.StatusSuccess {
		t.Errorf("notices %+v, want the restore's success", n)
	}
	if !slices.Contains(w.c.take(), "Fleet.Stop "+j.ID) {
		t.Error("the restore's worker not released")
	}
}

// TestBadEvent fails, with one line, for an event the handler is not
// sent, and touches no backend.
func TestBadEvent(t *testing.T) {
	w := newWorld(t)
	if _, err := w.invoke(t, "launch_successful.json"); err == nil {
		t.Error("no error")
	}
	wantCalls(t, "bad event", w.c.take())
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStartFailedRetried: a start whose worker could not be started ends
// Failed with the start-failed phase and returns the error, for Lambda to
// retry; the retry of the same event starts the backup anew, not "started
// already".
func TestStartFailedRetried(t *testing.T) {
	w := newWorld(t)
	w.c.fail["Fleet.Start"] = errors.New("ScalingActivityInProgress")
	res, err := w.invoke(t, "scheduled.json")
	if err == nil || len(res.IDs) != 1 {
		t.Fatalf("failed start: %+v, %v; want an error", res, err)
	}
	rec := w.record(t, res.IDs[0])
	if rec.Status != kpi.StatusFailed || !slices.ContainsFunc(rec.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseStartFailed }) {
		t.Errorf("failed start's record: %q, phases %+v; want failed, start-failed", rec.Status, rec.Phases)
	}
	delete(w.c.fail, "Fleet.Start")
	w.now = w.now.Add(time.Minute)
	again, err := w.invoke(t, "scheduled.json")
	if err != nil || len(again.IDs) != 1 || again.IDs[0] == res.IDs[0] || again.Note != "" {
		t.Fatalf("retry: %+v, %v; want a new backup", again, err)
	}
	if len(w.c.jobs) != 2 || w.c.jobs[1].ID != again.IDs[0] {
		t.Errorf("Fleet.Start jobs %+v: want the retry's started", w.c.jobs)
	}
}
