package kpi

import (
	"sync"
	"time"
)

// Phase is the timing of one named phase of a run, such as "crawl", "copy",
// "delete" or "prune", in a Report.
//
// A phase may be started by several goroutines, and more than once: it
// runs from its first start to its last stop, and is Running while any
// start has not been stopped yet. Then Stop is zero and Seconds is the time
// from Start to the report.
type Phase struct {
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	Stop    time.Time `json:"stop,omitzero"`
	Seconds float64   `json:"seconds"` // derived from Start and Stop
	Running bool      `json:"running"`
}

// Duration returns the length of the phase, Seconds as a time.Duration.
func (p Phase) Duration() time.Duration {
	return time.Duration(p.Seconds * float64(time.Second))
}

// phases holds the phase timers of a run, in the order of their first
// start.
type phases struct {
	mu   sync.Mutex
	list []phase
}

type phase struct {
	name        string
	start, stop time.Time
	active      int // starts not stopped yet
}

// StartPhase starts the phase called name and returns the function that
// stops it; calling that function more than once stops it once. Safe for
// concurrent use: see Phase for how several starts of one phase combine.
// Usage:
//
//	defer c.StartPhase("copy")()
//
// On a nil *Counters it returns a no-op function.
func (c *Counters) StartPhase(name string) (stop func()) {
	if c == nil {
		return func() {}
	}
	c.phases.start(name, c.opt.Now())
	var once sync.Once
	return func() {
		once.Do(func() { c.phases.stop(name, c.opt.Now()) })
	}
}

func (ps *phases) start(name string, now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.find(name)
	if p == nil {
		ps.list = append(ps.list, phase{name: name, start: now})
		p = &ps.list[len(ps.list)-1]
	}
	if now.Before(p.start) {
		p.start = now
	}
	p.active++
}

func (ps *phases) stop(name string, now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.find(name)
	if p == nil { // not reachable through StartPhase
		return
	}
	if now.After(p.stop) {
		p.stop = now
	}
	p.active--
}

// find returns the phase called name, or nil. ps.mu MUST be held.
func (ps *phases) find(name string) *phase {
	for i := range ps.list {
		if ps.list[i].name == name {
			return &ps.list[i]
		}
	}
	return nil
}

// snapshot returns the phases as of now, in UTC.
func (ps *phases) snapshot(now time.Time) []Phase {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]Phase, 0, len(ps.list))
	for _, p := range ps.list {
		rp := Phase{Name: p.name, Start: p.start.UTC(), Running: p.active > 0}
		end := now
		if !rp.Running {
			rp.Stop = p.stop.UTC()
			end = p.stop
		}
		rp.Seconds = end.Sub(p.start).Seconds()
		out = append(out, rp)
	}
	return out
}
