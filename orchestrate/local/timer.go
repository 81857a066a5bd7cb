package local

import (
	"context"
	"sync"
	"time"

	"github.com/efsync/efsync/orchestrate"
)

// Timer is the local orchestrate.Timer: a function on the Clock that
// sends WindowEnd{ID} to the events channel. It is safe for concurrent
// use. Its events live in memory, as the backups they stop do: a daemon
// that restarts has no backup left to stop.
type Timer struct {
	// config
	clock  Clock
	events chan<- orchestrate.Event

	// state
	mu    sync.Mutex
	stops map[string]func() bool
}

var _ orchestrate.Timer = (*Timer)(nil)

// NewTimer returns a timer on clock that sends to events.
func NewTimer(clock Clock, events chan<- orchestrate.Event) *Timer {
	return &Timer{clock: clock, events: events, stops: map[string]func() bool{}}
}

// Set arranges WindowEnd{ID: id} at at, replacing any event of id.
func (t *Timer) Set(_ context.Context, id string, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if stop := t.stops[id]; stop != nil {
		stop()
	}
	t.stops[id] = t.clock.AfterFunc(at.Sub(t.clock.Now()), func() {
		t.mu.Lock()
		delete(t.stops, id)
		t.mu.Unlock()
		t.events <- orchestrate.WindowEnd{ID: id}
	})
	return nil
}

// Cancel removes the event of id, if any.
func (t *Timer) Cancel(_ context.Context, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if stop := t.stops[id]; stop != nil {
		stop()
		delete(t.stops, id)
	}
	return nil
}
