package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/google/go-cmp/cmp"
)

// testCompletions: completions come back as reported, each once.
func testCompletions(t *testing.T, q efsync.Queue) {
	want := map[int]efsync.Completion{
		1: {Run: "run1", Chunk: 1, Attempt: 2, Worker: "w1", Failed: [][]byte{{0xff, 'a'}},
			Files:  kpi.FileCounts{Created: 3, Failed: 1, Transferred: 3},
			Bytes:  kpi.ByteCounts{Transferred: 300, Read: 300, Literal: 300},
			Errors: []efsync.TaskError{{Path: []byte{0xff, 'a'}, Class: kpi.ClassIO, Message: "read: input/output error"}}},
		2: {Run: "run1", Chunk: 2, Attempt: 1, Files: kpi.FileCounts{Unchanged: 16}},
	}
	for _, c := range []efsync.Completion{want[1], want[2]} {
		if err := q.Report(t.Context(), c); err != nil {
			t.Fatalf("report: %v", err)
		}
	}
	got := map[int]efsync.Completion{}
	for range want {
		c := completion(t, q, 5*time.Second)
		if _, twice := got[c.Chunk]; twice {
			t.Errorf("completion %d returned twice", c.Chunk)
		}
		got[c.Chunk] = c
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("completions (-reported +returned):\n%s", diff)
	}
	// past a visibility timeout too: a completion returned is gone.
	ctx, cancel := context.WithTimeout(t.Context(), visibility+time.Second)
	defer cancel()
	if c, err := q.Completion(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("completion %+v, %v; want none, %v", c, err, context.DeadlineExceeded)
	}
}

// completion returns a completion, failing t if none comes within wait.
func completion(t *testing.T, q efsync.Queue, wait time.Duration) efsync.Completion {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, err := q.Completion(ctx)
	if err != nil {
		t.Fatalf("completion: %v", err)
	}
	return c
}
