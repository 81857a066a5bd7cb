package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/efsync/efsync"
)

// cancelWait is how long a Receive or Completion may take to notice that
// its ctx was cancelled: a long poll's round trip.
const cancelWait = 3 * time.Second

// testCancelledReceive: Receive returns ctx's error, whether ctx was
// cancelled before the call, with a task waiting (and then takes none:
// a worker that stops hides nothing from the others), or during it.
func testCancelledReceive(t *testing.T, q efsync.Queue) {
	publish(t, q, task(5))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if d, err := q.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("receive with ctx cancelled: %v, %v; want %v", d, err, context.Canceled)
	}
	d := receive(t, q, 5*time.Second)
	if d.Task().Chunk != 5 || d.Attempt() != 1 {
		t.Errorf("task %d, attempt %d; want 5, 1", d.Task().Chunk, d.Attempt())
	}
	if err := d.Done(t.Context()); err != nil {
		t.Fatalf("done: %v", err)
	}
	// last, on an empty queue: an SQS long poll that its client left may
	// still take a message that comes in meanwhile.
	blocked(t, "receive", func(ctx context.Context) error { _, err := q.Receive(ctx); return err })
}

// testCancelledCompletion: Completion returns ctx's error, whether ctx
// was cancelled before the call, with a completion waiting (and then
// takes none), or during it.
func testCancelledCompletion(t *testing.T, q efsync.Queue) {
	if err := q.Report(t.Context(), efsync.Completion{Run: "run1", Chunk: 6}); err != nil {
		t.Fatalf("report: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if c, err := q.Completion(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("completion with ctx cancelled: %+v, %v; want %v", c, err, context.Canceled)
	}
	if c := completion(t, q, visibility+5*time.Second); c.Chunk != 6 {
		t.Errorf("completion %d, want 6", c.Chunk)
	}
	blocked(t, "completion", func(ctx context.Context) error { _, err := q.Completion(ctx); return err })
}

// blocked calls wait, which blocks on an empty queue, cancels its ctx
// soon after, and fails t unless wait then returns context.Canceled
// within cancelWait.
func blocked(t *testing.T, name string, wait func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if err := wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("%s, cancelled while waiting: %v, want %v", name, err, context.Canceled)
	}
	if took := time.Since(start); took > cancelWait {
		t.Errorf("%s returned %v after its ctx was cancelled, want within %v", name, took, cancelWait)
	}
}
