package orchestratetest

import (
	"context"
	"sync"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// FakeFleet is an orchestrate.Fleet and Commander whose workers copy
// nothing: each records its job as efsync.Backup does (no status at its
// start, the status at its end) and reports, at once or, while held, once
// stopped. It is safe for concurrent use.
type FakeFleet struct {
	// config
	cat    efsync.Catalog
	events chan<- orchestrate.Event

	// state
	mu    sync.Mutex
	hold  bool
	runs  map[string]*fakeRun
	stops []string // ids Stop was called with
}

type fakeRun struct {
	rec    efsync.Record
	stop   chan struct{}
	once   sync.Once
	killed bool
}

// NewFakeFleet returns a fleet whose workers write to cat and report to
// events.
func NewFakeFleet(cat efsync.Catalog, events chan<- orchestrate.Event) *FakeFleet {
	return &FakeFleet{cat: cat, events: events, runs: map[string]*fakeRun{}}
}

// Hold makes the workers started from now on run until stopped (on), or
// end at once.
func (f *FakeFleet) Hold(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = on
}

// Start starts job's worker.
func (f *FakeFleet) Start(ctx context.Context, job orchestrate.Job) error {
	rec := efsync.Record{ID: job.ID, Label: job.Plan.Label, Source: job.Plan.Source, Repo: job.Plan.Repo,
		Host: "fake", Start: time.Now().UTC()}
	if err := f.cat.Put(ctx, rec); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.hold {
		go f.end(rec, kpi.StatusSuccess, "")
		return nil
	}
	r := &fakeRun{rec: rec, stop: make(chan struct{})}
	f.runs[job.ID] = r
	go func() {
		<-r.stop
		f.mu.Lock()
		killed := r.killed
		f.mu.Unlock()
		if !killed {
			f.end(rec, kpi.StatusIncomplete, "stopped")
		}
	}()
	return nil
}

// end records rec as ended with status and reports it.
func (f *FakeFleet) end(rec efsync.Record, status kpi.Status, reason string) {
	rec.Status, rec.Reason, rec.Stop = status, reason, time.Now().UTC()
	err := f.cat.Put(context.Background(), rec)
	f.events <- orchestrate.AgentReport{ID: rec.ID, Record: &rec, Err: err}
}

// Stop stops the worker of id, if it runs.
func (f *FakeFleet) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, id)
	if r := f.runs[id]; r != nil {
		r.once.Do(func() { close(r.stop) })
		delete(f.runs, id)
	}
	return nil
}

// Kill ends the worker of id as a crash would: no record, no report.
func (f *FakeFleet) Kill(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.runs[id]; r != nil {
		r.killed = true
		r.once.Do(func() { close(r.stop) })
		delete(f.runs, id)
	}
}

// FakeTimer is an orchestrate.Timer on a FakeClock, which sends the
// WindowEnd events to a channel. It is safe for concurrent use.
type FakeTimer struct {
	clock  *FakeClock
	events chan<- orchestrate.Event
	mu     sync.Mutex
	stops  map[string]func() bool
}

// NewFakeTimer returns a timer on clock sending to events.
func NewFakeTimer(clock *FakeClock, events chan<- orchestrate.Event) *FakeTimer {
	return &FakeTimer{clock: clock, events: events, stops: map[string]func() bool{}}
}

// Set arranges WindowEnd{id} at at.
func (t *FakeTimer) Set(_ context.Context, id string, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stops[id] = t.clock.AfterFunc(at.Sub(t.clock.Now()), func() { t.events <- orchestrate.WindowEnd{ID: id} })
	return nil
}

// Cancel removes the event of id.
func (t *FakeTimer) Cancel(_ context.Context, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if stop := t.stops[id]; stop != nil {
		stop()
		delete(t.stops, id)
	}
	return nil
}
