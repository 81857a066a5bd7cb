package orchestratetest

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// FakeClock is a clock that moves only when told to, for tests that must
// not wait for wall time. It has the methods of local.Clock. It is safe
// for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*fakeTimer
	seq     int
}

type fakeTimer struct {
	at  time.Time
	seq int
	f   func()
}

// NewFakeClock returns a clock at now.
func NewFakeClock(now time.Time) *FakeClock { return &FakeClock{now: now} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges f to be called, on the goroutine that advances the
// clock, once it reaches Now()+d; stop cancels it and reports whether it
// had not run yet.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{at: c.now.Add(d), seq: c.seq, f: f}
	c.pending = append(c.pending, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.pending, t)
		if i < 0 {
			return false
		}
		c.pending = slices.Delete(c.pending, i, i+1)
		return true
	}
}

// Advance moves the clock d forward, calling the functions that come due
// in the order of their times, each with the clock at its time.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		next := -1
		for i, t := range c.pending {
			if !t.at.After(end) && (next < 0 || t.at.Before(c.pending[next].at) ||
				t.at.Equal(c.pending[next].at) && t.seq < c.pending[next].seq) {
				next = i
			}
		}
		if next < 0 {
			c.now = end
			c.mu.Unlock()
			return
		}
		t := c.pending[next]
		c.pending = slices.Delete(c.pending, next, next+1)
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending returns how many functions wait for the clock.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// WaitPending waits, in real time up to limit, until at least n functions
// wait for the clock: until a daemon has armed its next start, say.
func (c *FakeClock) WaitPending(tb testing.TB, n int, limit time.Duration) {
	tb.Helper()
	for end := time.Now().Add(limit); c.Pending() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			tb.Fatalf("fake clock: %d functions wait after %s, want %d", c.Pending(), limit, n)
		}
	}
}
