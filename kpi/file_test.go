package kpi_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

func TestReaderCountsExactly(t *testing.T) {
	data := make([]byte, 100_003)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	c := kpi.New(kpi.Options{})
	f := c.StartFile("a", int64(len(data)))
	r := f.Reader(iotest.HalfReader(bytes.NewReader(data)))

	// Bytes count as they flow, before Done.
	part := make([]byte, 1000)
	if _, err := io.ReadFull(r, part); err != nil {
		t.Fatal(err)
	}
	if got := c.Report(); got.Bytes.Read != 1000 || got.Files.InFlight != 1 {
		t.Errorf("in flight: Read = %d, InFlight = %d; want 1000, 1", got.Bytes.Read, got.Files.InFlight)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(part, rest...), data) {
		t.Fatal("Reader changed the data")
	}
	f.Done(kpi.Created, nil)
	got := c.Report()
	want := kpi.ByteCounts{Transferred: int64(len(data)), Read: int64(len(data)), Literal: int64(len(data))}
	if diff := cmp.Diff(want, got.Bytes); diff != "" {
		t.Errorf("Bytes (-want +got):\n%s", diff)
	}
	if got.Files.InFlight != 0 || got.Files.Transferred != 1 {
		t.Errorf("InFlight = %d, Transferred = %d; want 0, 1", got.Files.InFlight, got.Files.Transferred)
	}
}

func TestDoneTwiceBooksOnce(t *testing.T) {
	c := kpi.New(kpi.Options{})
	f := c.StartFile("a", 3)
	f.Copied(3)
	f.Done(kpi.Created, nil)
	f.Done(kpi.Created, nil)
	f.Done(kpi.Failed, syscall.EIO)
	r := c.Report()
	want := kpi.FileCounts{Created: 1, Transferred: 1}
	if diff := cmp.Diff(want, r.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if r.Errors.Total != 0 || r.Bytes.Literal != 3 {
		t.Errorf("Errors.Total = %d, Literal = %d; want 0, 3", r.Errors.Total, r.Bytes.Literal)
	}
}

func TestDone(t *testing.T) {
	eacces := &os.PathError{Op: "open", Path: "a", Err: syscall.EACCES}
	enoent := &os.PathError{Op: "open", Path: "a", Err: syscall.ENOENT}
	tests := []struct {
		name     string
		read     int64 // bytes read through Reader, -1 for no Reader
		matched  int64
		outcome  kpi.Outcome
		err      error
		files    kpi.FileCounts
		bytes    kpi.ByteCounts
		errors   kpi.ErrorCounts
		vanished int64
	}{
		{name: "created", read: 10, outcome: kpi.Created,
			files: kpi.FileCounts{Created: 1, Transferred: 1},
			bytes: kpi.ByteCounts{Read: 10, Literal: 10, Transferred: 10}},
		{name: "updated with matched data", read: 10, matched: 6, outcome: kpi.Updated,
			files: kpi.FileCounts{Updated: 1, Transferred: 1},
			bytes: kpi.ByteCounts{Read: 10, Literal: 4, Matched: 6, Transferred: 10}},
		{name: "created without data", read: -1, outcome: kpi.Created,
			files: kpi.FileCounts{Created: 1}},
		{name: "hard linked", read: -1, outcome: kpi.HardLinked,
			files: kpi.FileCounts{HardLinked: 1}},
		{name: "unchanged after reading", read: 10, matched: 10, outcome: kpi.Unchanged,
			files: kpi.FileCounts{Unchanged: 1}, bytes: kpi.ByteCounts{Read: 10}},
		{name: "metadata only", read: -1, outcome: kpi.MetadataOnly,
			files: kpi.FileCounts{MetadataOnly: 1}},
		{name: "error overrides outcome", read: 4, outcome: kpi.Created, err: eacces,
			files: kpi.FileCounts{Failed: 1}, bytes: kpi.ByteCounts{Read: 4},
			errors: kpi.ErrorCounts{Permission: 1}},
		{name: "failed without error", read: -1, outcome: kpi.Failed,
			files: kpi.FileCounts{Failed: 1}, errors: kpi.ErrorCounts{Other: 1}},
		{name: "invalid outcome", read: -1, outcome: kpi.Outcome(99),
			files: kpi.FileCounts{Failed: 1}, errors: kpi.ErrorCounts{Other: 1}},
		{name: "ENOENT is vanished", read: -1, outcome: kpi.Created, err: enoent, vanished: 1},
		{name: "vanished", read: -1, outcome: kpi.Vanished, vanished: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kpi.New(kpi.Options{})
			f := c.StartFile("a", 10)
			if tt.read >= 0 {
				if _, err := io.CopyN(io.Discard, f.Reader(bytes.NewReader(make([]byte, 10))), tt.read); err != nil {
					t.Fatal(err)
				}
			}
			f.Matched(tt.matched)
			f.Done(tt.outcome, tt.err)
			r := c.Report()
			if diff := cmp.Diff(tt.files, r.Files); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bytes, r.Bytes); diff != "" {
				t.Errorf("Bytes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.errors, r.Errors.ByClass); diff != "" {
				t.Errorf("Errors (-want +got):\n%s", diff)
			}
			if r.Vanished != tt.vanished {
				t.Errorf("Vanished = %d, want %d", r.Vanished, tt.vanished)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	if got := kpi.HardLinked.String(); got != "hard_linked" {
		t.Errorf("HardLinked.String() = %q", got)
	}
	if got := kpi.Outcome(99).String(); got != "Outcome(99)" {
		t.Errorf("Outcome(99).String() = %q", got)
	}
}
