package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/google/go-cmp/cmp"
)

// Opener returns a new, empty Queue whose received tasks stay hidden for
// visibility. Backends that count time in whole seconds round it up.
type Opener func(t *testing.T, visibility time.Duration) efsync.Queue

// visibility is the suite's visibility timeout: the shortest that SQS,
// which counts whole seconds, takes.
const visibility = time.Second

// Run runs the behaviour suite on queues that open makes, a fresh one
// for each subtest. The subtests run in parallel, so that the waits for
// visibility timeouts overlap: the suite takes a few seconds.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, q efsync.Queue)
	}{
		{"RoundTrip", testRoundTrip},
		{"Redelivery", testRedelivery},
		{"Extend", testExtend},
		{"Done", testDone},
		{"Completions", testCompletions},
		{"CancelledReceive", testCancelledReceive},
		{"CancelledCompletion", testCancelledCompletion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t, visibility))
		})
	}
}

// receive receives a task, failing t if none comes within wait.
func receive(t *testing.T, q efsync.Queue, wait time.Duration) efsync.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	d, err := q.Receive(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return d
}

// none fails t unless q delivers no task within wait.
func none(t *testing.T, q efsync.Queue, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if d, err := q.Receive(ctx); err == nil {
		t.Fatalf("task %d delivered (attempt %d), want none", d.Task().Chunk, d.Attempt())
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("receive: %v, want %v", err, context.DeadlineExceeded)
	}
}

// publish publishes ts, failing t on an error.
func publish(t *testing.T, q efsync.Queue, ts ...efsync.Task) {
	t.Helper()
	for _, task := range ts {
		if err := q.Publish(t.Context(), task); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

// task returns a small task of chunk n.
func task(n int) efsync.Task {
	return efsync.Task{Run: "run1", Job: "job", Chunk: n, Src: "/src", Dst: "/dst", Paths: [][]byte{[]byte("a")}}
}

// testRoundTrip: tasks come back as published, paths that are not UTF-8
// included, each once, at Attempt 1, and Done takes them away.
func testRoundTrip(t *testing.T, q efsync.Queue) {
	want := map[int]efsync.Task{
		1: {Run: "run1", Job: "job", Chunk: 1, Src: "/mnt/src", Dst: "/mnt/dst",
			Paths: [][]byte{{0xff, 'a'}, []byte("dir/b"), []byte("dir/\xc3\x28"), []byte("é")}},
		2: {Run: "run1", Chunk: 2, Src: "/mnt/src", Dst: "/mnt/dst", List: "/state/chunks/2"},
	}
	publish(t, q, want[1], want[2])
	got := map[int]efsync.Task{}
	for range want {
		d := receive(t, q, 5*time.Second)
		if d.Attempt() != 1 {
			t.Errorf("task %d: attempt %d, want 1", d.Task().Chunk, d.Attempt())
		}
		got[d.Task().Chunk] = d.Task()
		if err := d.Done(t.Context()); err != nil {
			t.Fatalf("done: %v", err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tasks (-published +received):\n%s", diff)
	}
	none(t, q, visibility+time.Second)
}

// testRedelivery: a task neither Done nor extended comes back once its
// visibility timeout passed, not before, as Attempt 2.
func testRedelivery(t *testing.T, q efsync.Queue) {
	publish(t, q, task(7))
	start := time.Now()
	receive(t, q, 5*time.Second) // a worker that dies
	d := receive(t, q, visibility+5*time.Second)
	if took := time.Since(start); took < visibility*9/10 {
		t.Errorf("delivered again after %v, before the visibility timeout %v", took, visibility)
	}
	if d.Task().Chunk != 7 || d.Attempt() != 2 {
		t.Errorf("task %d, attempt %d; want 7, 2", d.Task().Chunk, d.Attempt())
	}
	if err := d.Done(t.Context()); err != nil {
		t.Fatalf("done: %v", err)
	}
}

// testExtend: Extend hides a task past its first visibility timeout.
func testExtend(t *testing.T, q efsync.Queue) {
	publish(t, q, task(3))
	d := receive(t, q, 5*time.Second)
	if err := d.Extend(t.Context(), 4*visibility); err != nil {
		t.Fatalf("extend: %v", err)
	}
	none(t, q, 2*visibility)
	if err := d.Done(t.Context()); err != nil {
		t.Fatalf("done after extend: %v", err)
	}
}

// testDone: a task Done is not delivered again, even after its
// visibility timeout.
func testDone(t *testing.T, q efsync.Queue) {
	publish(t, q, task(4))
	if err := receive(t, q, 5*time.Second).Done(t.Context()); err != nil {
		t.Fatalf("done: %v", err)
	}
	none(t, q, visibility+time.Second)
}
