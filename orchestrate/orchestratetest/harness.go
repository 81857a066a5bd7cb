package orchestratetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// Harness is one set of backends under test, with what the behaviour
// suite needs to drive and observe them.
type Harness struct {
	// Plan is the plan to run; its Window must be set.
	Plan     orchestrate.Plan
	Backends orchestrate.Backends
	// Clock drives the Timer.
	Clock *FakeClock
	// Events gets what the backends send: WindowEnd from the Timer,
	// AgentReport and AgentGone from the Fleet. It must be buffered, as
	// the suite advances the clock and handles events on one goroutine.
	Events <-chan orchestrate.Event
	// Notices returns the notices delivered so far, oldest first.
	Notices func() []orchestrate.Notice
	// Hold makes the backups started from now on run until stopped
	// (on), or end by themselves soon (off).
	Hold func(on bool)
	// Kill, if set, ends the worker of id as a crash would: no report.
	Kill func(id string)
	// Log returns the text of the log of id.
	Log func(id string) string
	// Wait bounds, in real time, how long a backup may take to end; the
	// default is 30 s.
	Wait time.Duration
}

// NewMemory returns a harness over the in-memory fakes of this package.
func NewMemory(t *testing.T) *Harness {
	events := make(chan orchestrate.Event, 64)
	cat, logs, rec := NewMemCatalog(), NewMemLogs(), &Recorder{}
	clock := NewFakeClock(time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC))
	fleet := NewFakeFleet(cat, events)
	return &Harness{
		Plan:  orchestrate.Plan{Label: "daily", Source: "/src", Repo: "/repo", Window: time.Hour},
		Clock: clock, Events: events, Notices: rec.Notices, Hold: fleet.Hold, Kill: fleet.Kill, Log: logs.Text,
		Backends: orchestrate.Backends{Fleet: fleet, Timer: NewFakeTimer(clock, events), Commander: fleet,
			Catalog: cat, Logs: logs, Notifier: rec, Metrics: rec},
	}
}

// orch returns a new orchestrator of plan over h's backends: a new one
// per call, as a new process or Lambda invocation would have.
func (h *Harness) orch(t *testing.T, plan orchestrate.Plan) *orchestrate.Orchestrator {
	t.Helper()
	o, err := orchestrate.New(plan, h.Backends, orchestrate.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// start handles a ScheduleStart at the clock's time and returns the id.
func (h *Harness) start(t *testing.T, o *orchestrate.Orchestrator) string {
	t.Helper()
	id, err := o.Handle(t.Context(), orchestrate.ScheduleStart{At: h.Clock.Now()})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return id
}

// record returns the record of id, and whether there is one.
func (h *Harness) record(t *testing.T, id string) (efsync.Record, bool) {
	t.Helper()
	r, err := h.Backends.Catalog.Get(context.Background(), id)
	if errors.Is(err, efsync.ErrNotFound) {
		return r, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

// reported reports whether the record of id is final, metrics and notice
// out.
func (h *Harness) reported(t *testing.T, id string) bool {
	r, ok := h.record(t, id)
	return ok && r.Status != "" && slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseReported })
}

// drive handles the backends' events with o until done holds, failing t
// after h.Wait.
func (h *Harness) drive(t *testing.T, o *orchestrate.Orchestrator, what string, done func() bool) {
	t.Helper()
	limit := time.After(h.Wait)
	for !done() {
		select {
		case ev := <-h.Events:
			if _, err := o.Handle(t.Context(), ev); err != nil {
				t.Errorf("%T: %v", ev, err)
			}
		case <-limit:
			t.Fatalf("gave up waiting for %s after %s", what, h.Wait)
		}
	}
}

// settle handles the events that come within a short while, for checks
// that nothing more happens.
func (h *Harness) settle(t *testing.T, o *orchestrate.Orchestrator) {
	t.Helper()
	for {
		select {
		case ev := <-h.Events:
			if _, err := o.Handle(t.Context(), ev); err != nil {
				t.Errorf("%T: %v", ev, err)
			}
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}
