package main

import (
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/google/go-cmp/cmp"
)

// TestJobsOfInstance picks the jobs an instance's events are about: those
// its agent claimed (Host), else those no agent claimed.
func TestJobsOfInstance(t *testing.T) {
	done := []kpi.Phase{{Name: orchestrate.PhaseReported}}
	tests := []struct {
		name          string
		recs          []efsync.Record
		running, gone []string
	}{
		{"claimed and running", []efsync.Record{{ID: "a", Host: "i-1"}, {ID: "b", Host: ""}}, []string{"a"}, []string{"a"}},
		{"claimed and ended", []efsync.Record{{ID: "a", Host: "i-1", Status: kpi.StatusSuccess}}, nil, []string{"a"}},
		{"claimed and reported", []efsync.Record{{ID: "a", Host: "i-1", Status: kpi.StatusSuccess, Phases: done}}, nil, nil},
		{"another instance's", []efsync.Record{{ID: "a", Host: "i-2"}}, nil, nil},
		{"unclaimed", []efsync.Record{{ID: "a", Host: "i-2", Status: kpi.StatusFailed}, {ID: "b"}}, []string{"b"}, []string{"b"}},
		{"none", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.running, runningOn(tt.recs, "i-1")); d != "" {
				t.Errorf("runningOn (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.gone, goneWith(tt.recs, "i-1")); d != "" {
				t.Errorf("goneWith (-want +got):\n%s", d)
			}
		})
	}
}

// TestTriage: a job without status is running until an hour past its
// window, an ended one not reported is awaited an hour past its stop.
func TestTriage(t *testing.T) {
	start := time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)
	recs := []efsync.Record{
		{ID: "reported", Start: start, Status: kpi.StatusSuccess, Stop: start, Phases: []kpi.Phase{{Name: orchestrate.PhaseReported}}},
		{ID: "running", Start: start},
		{ID: "ended", Start: start, Status: kpi.StatusSuccess, Stop: start.Add(time.Hour)},
	}
	tests := []struct {
		name           string
		at             time.Time
		running, stale []string
	}{
		{"in the window", start.Add(time.Hour), []string{"running"}, nil},
		{"within the hour after", start.Add(4 * time.Hour), []string{"running"}, []string{"ended"}},
		{"past it", start.Add(4*time.Hour + time.Second), nil, []string{"running", "ended"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			running, stale := triage(recs, tt.at, 3*time.Hour)
			if d := cmp.Diff([2][]string{tt.running, tt.stale}, [2][]string{running, stale}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
