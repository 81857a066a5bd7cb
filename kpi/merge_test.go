package kpi_test

import (
	"testing"

	"github.com/efsync/efsync/kpi"
	"github.com/google/go-cmp/cmp"
)

func TestAddWork(t *testing.T) {
	c := kpi.New(kpi.Options{})
	c.StartFile("a", 10).Done(kpi.Created, nil)
	f := kpi.FileCounts{Created: 2, Updated: 1, HardLinked: 3, Unchanged: 4, MetadataOnly: 5, Failed: 6, Skipped: 7, Transferred: 3, InFlight: 9}
	b := kpi.ByteCounts{Scanned: 99, Transferred: 30, Read: 40, Literal: 25, Matched: 15}
	c.AddWork(f, b)
	c.AddWork(f, b)
	r := c.Report()
	want := kpi.FileCounts{Created: 5, Updated: 2, HardLinked: 6, Unchanged: 8, MetadataOnly: 10, Failed: 12, Skipped: 14, Transferred: 6}
	if diff := cmp.Diff(want, r.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(kpi.ByteCounts{Transferred: 60, Read: 80, Literal: 50, Matched: 30}, r.Bytes); diff != "" {
		t.Errorf("bytes (-want +got):\n%s", diff)
	}
	var nilc *kpi.Counters
	nilc.AddWork(f, b)
}

func TestAddError(t *testing.T) {
	c := kpi.New(kpi.Options{MaxErrors: 2})
	io := kpi.ErrorRecord{Path: "a", Class: kpi.ClassIO, Message: "read a: input/output error"}
	perm := kpi.ErrorRecord{Path: "b", Class: kpi.ClassPermission, Message: "open b: permission denied"}
	c.AddError(io)
	c.AddError(perm)
	c.AddError(io) // counted, not kept: MaxErrors
	c.AddError(kpi.ErrorRecord{Path: "gone", Class: kpi.ClassVanished})
	c.AddError(kpi.ErrorRecord{Path: "odd", Class: kpi.Class(200), Message: "?"})
	r := c.Report()
	want := kpi.ErrorSummary{Total: 4, ByClass: kpi.ErrorCounts{IO: 2, Permission: 1, Other: 1},
		First: []kpi.ErrorRecord{io, perm}}
	if diff := cmp.Diff(want, r.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if r.Vanished != 1 || len(r.VanishedPaths) != 1 || r.VanishedPaths[0] != "gone" {
		t.Errorf("vanished %d %q, want 1 [gone]", r.Vanished, r.VanishedPaths)
	}
	var nilc *kpi.Counters
	nilc.AddError(io)
}

// TestAddErrors: a worker's errors are all counted, by class, though it
// kept only some, and the leader keeps what its own MaxErrors allows;
// likewise vanished entries.
func TestAddErrors(t *testing.T) {
	c := kpi.New(kpi.Options{MaxErrors: 2})
	io := kpi.ErrorRecord{Path: "a", Class: kpi.ClassIO, Message: "read a: input/output error"}
	perm := kpi.ErrorRecord{Path: "b", Class: kpi.ClassPermission, Message: "open b: permission denied"}
	c.AddErrors(kpi.ErrorCounts{IO: 5, Permission: 1}, []kpi.ErrorRecord{io, perm}, 7, []string{"gone"})
	c.AddErrors(kpi.ErrorCounts{Other: 1}, []kpi.ErrorRecord{{Path: "odd", Class: kpi.Class(200), Message: "?"}}, 0, nil)
	r := c.Report()
	want := kpi.ErrorSummary{Total: 7, ByClass: kpi.ErrorCounts{IO: 5, Permission: 1, Other: 1},
		First: []kpi.ErrorRecord{io, perm}}
	if diff := cmp.Diff(want, r.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if r.Vanished != 7 || len(r.VanishedPaths) != 1 || r.VanishedPaths[0] != "gone" {
		t.Errorf("vanished %d %q, want 7 [gone]", r.Vanished, r.VanishedPaths)
	}
	var nilc *kpi.Counters
	nilc.AddErrors(kpi.ErrorCounts{IO: 1}, []kpi.ErrorRecord{io}, 1, nil)
}
