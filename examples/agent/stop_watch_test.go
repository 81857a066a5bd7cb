package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// scriptedStops answers StopRequested from a script, one answer per
// call, the last one repeated, and counts the calls.
type scriptedStops struct {
	mu      sync.Mutex
	answers []error // nil: not asked; errAsked: asked; else the error
	calls   int
}

var errAsked = errors.New("asked")

func (s *scriptedStops) StopRequested(context.Context, string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	switch a {
	case nil:
		return time.Time{}, false, nil
	case errAsked:
		return time.Unix(1, 0), true, nil
	}
	return time.Time{}, false, a
}

func (s *scriptedStops) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TestWatchStop: a request there before the job begins stops it before
// watchStop returns; one that comes later is found by the poll, past a
// read that failed; either stops once, and the watch then reads no more.
// A watch ended without a request stops nothing and reads no more.
func TestWatchStop(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		answers   []error
		wantStops int
		wantCalls int // the calls when it stopped; 0: it never does
	}{
		{"before the job", []error{errAsked}, 1, 1},
		{"while it runs", []error{nil, errors.New("throttled"), nil, errAsked}, 1, 4},
		{"never", []error{nil}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs := &scriptedStops{answers: tt.answers}
			stopped := make(chan int, 10)
			var n int
			end := watchStop(t.Context(), reqs, "id", 5*time.Millisecond, log, func() { n++; stopped <- reqs.count() })
			if tt.wantCalls == 1 && len(stopped) != 1 {
				t.Fatalf("a request there before the job: not stopped when watchStop returned")
			}
			if tt.wantStops > 0 {
				select {
				case calls := <-stopped:
					if calls != tt.wantCalls {
						t.Errorf("stopped after %d reads, want %d", calls, tt.wantCalls)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the request was never found")
				}
			} else { // it polls on, a read every 5 ms
				for deadline := time.Now().Add(10 * time.Second); reqs.count() < 3; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("%d reads in 10 s at a poll of 5 ms", reqs.count())
					}
				}
			}
			end()
			calls := reqs.count()
			time.Sleep(30 * time.Millisecond)
			if reqs.count() != calls {
				t.Errorf("%d reads after the watch ended", reqs.count()-calls)
			}
			if len(stopped) != 0 || n != tt.wantStops {
				t.Errorf("stopped %d times, want %d", n, tt.wantStops)
			}
		})
	}
}
