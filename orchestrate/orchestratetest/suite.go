// Package orchestratetest holds the behaviour suite every set of
// orchestrate backends must pass (like rclone's fstest, one suite for
// every remote), a fake clock, and in-memory fakes of the backends.
package orchestratetest

import (
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/google/go-cmp/cmp"
)

// Run runs the behaviour suite on the backends newHarness makes, a new
// set per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *Harness)
	}{
		{"IDPerStart", testIDPerStart},
		{"EarlyFinish", testEarlyFinish},
		{"LateStopAfterRestart", testLateStopAfterRestart},
		{"StopTwiceLateUnknown", testStopTwiceLateUnknown},
		{"CrashStillRecorded", testCrashStillRecorded},
		{"ReportOnce", testReportOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Wait == 0 {
				h.Wait = 30 * time.Second
			}
			h.Hold(false)
			tt.run(t, h)
		})
	}
}

// testIDPerStart runs two backups with one orchestrator, as one long-lived
// process or a warm Lambda container would: each start has its own id and
// record (the seed made the id once per container, so the second run wrote
// over the first's record).
func testIDPerStart(t *testing.T, h *Harness) {
	o := h.orch(t, h.Plan)
	first := h.start(t, o)
	h.drive(t, o, "the first backup", func() bool { return h.reported(t, first) })
	h.Clock.Advance(24 * time.Hour)
	second := h.start(t, o)
	h.drive(t, o, "the second backup", func() bool { return h.reported(t, second) })
	if first == second {
		t.Fatalf("two starts made one id, %s", first)
	}
	for _, id := range []string{first, second} {
		if r, _ := h.record(t, id); r.Status != kpi.StatusSuccess {
			t.Errorf("backup %s: status %q (%s), want success", id, r.Status, r.Reason)
		}
	}
}

// testEarlyFinish: a backup that ends within its window records success,
// sends no notice, and its window's timer is cancelled; with
// NotifySuccess, one notice says success.
func testEarlyFinish(t *testing.T, h *Harness) {
	o := h.orch(t, h.Plan)
	id := h.start(t, o)
	h.drive(t, o, "the backup", func() bool { return h.reported(t, id) })
	before, _ := h.record(t, id)
	h.Clock.Advance(h.Plan.Window)
	h.settle(t, o)
	after, _ := h.record(t, id)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("the window's end changed an ended backup's record (-before +after):\n%s", d)
	}
	if after.Status != kpi.StatusSuccess {
		t.Errorf("status %q (%s), want success", after.Status, after.Reason)
	}
	if n := h.Notices(); len(n) != 0 {
		t.Errorf("a success sent notices unasked: %+v", n)
	}

	plan := h.Plan
	plan.NotifySuccess = true
	o = h.orch(t, plan)
	h.Clock.Advance(time.Hour)
	id = h.start(t, o)
	h.drive(t, o, "the backup", func() bool { return h.reported(t, id) })
	n := h.Notices()
	if len(n) != 1 || n[0].ID != id || n[0].Status != kpi.StatusSuccess {
		t.Errorf("with NotifySuccess: notices %+v, want one success of %s", n, id)
	}
}

// testLateStopAfterRestart starts a backup that outlasts its window, then
// lets the window's end reach a new orchestrator, as a new process or a
// cold Lambda would get it: the job is found in the Catalog, stopped, and
// recorded Incomplete, with a notice (the seed kept the job in the timer's
// payload and lost it).
func testLateStopAfterRestart(t *testing.T, h *Harness) {
	h.Hold(true)
	id := h.start(t, h.orch(t, h.Plan))
	fresh := h.orch(t, h.Plan)
	h.Clock.Advance(h.Plan.Window)
	h.drive(t, fresh, "the stopped backup", func() bool { return h.reported(t, id) })
	r, _ := h.record(t, id)
	if r.Status != kpi.StatusIncomplete {
		t.Errorf("status %q (%s), want incomplete", r.Status, r.Reason)
	}
	if n := h.Notices(); len(n) != 1 || n[0].ID != id || n[0].Status != kpi.StatusIncomplete {
		t.Errorf("notices %+v, want one incomplete of %s", n, id)
	}
}

// testStopTwiceLateUnknown sends stops for an unknown id, twice for a
// running backup, and late: each is harmless, and the backup ends once.
func testStopTwiceLateUnknown(t *testing.T, h *Harness) {
	h.Hold(true)
	o := h.orch(t, h.Plan)
	id := h.start(t, o)
	stranger := efsync.NewBackupID(h.Clock.Now().Add(-time.Hour))
	for _, ev := range []orchestrate.Event{
		orchestrate.StopRequested{ID: stranger, By: "operator"}, orchestrate.WindowEnd{ID: stranger},
		orchestrate.StopRequested{ID: id, By: "operator"}, orchestrate.StopRequested{ID: id, By: "signal"},
	} {
		if _, err := o.Handle(t.Context(), ev); err != nil {
			t.Errorf("%#v: %v", ev, err)
		}
	}
	if _, ok := h.record(t, stranger); ok {
		t.Errorf("a stop for an unknown id made a record")
	}
	h.drive(t, o, "the stopped backup", func() bool { return h.reported(t, id) })
	before, _ := h.record(t, id)
	for _, ev := range []orchestrate.Event{orchestrate.StopRequested{ID: id, By: "late"}, orchestrate.WindowEnd{ID: id}} {
		if _, err := o.Handle(t.Context(), ev); err != nil {
			t.Errorf("late %#v: %v", ev, err)
		}
	}
	h.Clock.Advance(h.Plan.Window)
	h.settle(t, o)
	after, _ := h.record(t, id)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("a late stop changed the record (-before +after):\n%s", d)
	}
	if after.Status != kpi.StatusIncomplete {
		t.Errorf("status %q (%s), want incomplete", after.Status, after.Reason)
	}
	if n := h.Notices(); len(n) != 1 {
		t.Errorf("%d notices, want 1: %+v", len(n), n)
	}
}

// testCrashStillRecorded kills a backup's worker, which reports nothing:
// the record, made before the worker started, says Incomplete and why,
// a notice goes out, and the log tells the job's story (the seed left no
// record and no log of a run that died).
func testCrashStillRecorded(t *testing.T, h *Harness) {
	if h.Kill == nil {
		t.Skip("these backends can't kill a worker; their crash test is their own")
	}
	h.Hold(true)
	o := h.orch(t, h.Plan)
	id := h.start(t, o)
	if r, ok := h.record(t, id); !ok || r.Status != "" {
		t.Fatalf("after the start: record %+v (found %v), want one without status", r, ok)
	}
	h.Kill(id)
	if _, err := o.Handle(t.Context(), orchestrate.AgentGone{ID: id, Reason: "instance terminated"}); err != nil {
		t.Fatal(err)
	}
	r, _ := h.record(t, id)
	if r.Status != kpi.StatusIncomplete || !strings.Contains(r.Reason, "instance terminated") {
		t.Errorf("record: status %q, reason %q; want incomplete, saying why", r.Status, r.Reason)
	}
	if n := h.Notices(); len(n) != 1 || n[0].Status != kpi.StatusIncomplete {
		t.Errorf("notices %+v, want one incomplete", n)
	}
	if log := h.Log(id); !strings.Contains(log, "scheduled") || !strings.Contains(log, "AgentGone") {
		t.Errorf("the log doesn't tell the job's story:\n%s", log)
	}
}

// testReportOnce repeats a backup's report and adds a gone worker after
// it, as at-least-once delivery would: one notice only.
func testReportOnce(t *testing.T, h *Harness) {
	plan := h.Plan
	plan.NotifySuccess = true
	o := h.orch(t, plan)
	id := h.start(t, o)
	h.drive(t, o, "the backup", func() bool { return h.reported(t, id) })
	r, _ := h.record(t, id)
	for _, ev := range []orchestrate.Event{orchestrate.AgentReport{ID: id, Record: &r}, orchestrate.AgentGone{ID: id}} {
		if _, err := o.Handle(t.Context(), ev); err != nil {
			t.Errorf("%T again: %v", ev, err)
		}
	}
	if n := h.Notices(); len(n) != 1 {
		t.Errorf("%d notices, want 1: %+v", len(n), n)
	}
}
