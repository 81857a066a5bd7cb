package orchestrate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

func TestDecide(t *testing.T) {
	rec := &efsync.Record{ID: "x", Status: kpi.StatusSuccess}
	tests := []struct {
		name string
		s    state
		ev   Event
		want action
	}{
		{"window end of a running job scales in", running, WindowEnd{ID: "x"}, scaleIn},
		{"window end, late", ended, WindowEnd{ID: "x"}, ignore},
		{"window end, after the report", reported, WindowEnd{ID: "x"}, ignore},
		{"window end, unknown id", unknown, WindowEnd{ID: "x"}, ignore},
		{"stop of a running job", running, StopRequested{ID: "x"}, command},
		{"stop, late", ended, StopRequested{ID: "x"}, ignore},
		{"stop, twice (second after the report)", reported, StopRequested{ID: "x"}, ignore},
		{"stop, unknown id", unknown, StopRequested{ID: "x"}, ignore},
		{"report of a running job", running, AgentReport{ID: "x"}, settle},
		{"report after the agent wrote its status", ended, AgentReport{ID: "x"}, settle},
		{"report, repeated", reported, AgentReport{ID: "x", Record: rec}, ignore},
		{"report of an unknown job, with a record", unknown, AgentReport{ID: "x", Record: rec}, settle},
		{"report of an unknown job, without", unknown, AgentReport{ID: "x"}, ignore},
		{"gone while running", running, AgentGone{ID: "x"}, bury},
		{"gone after writing its status", ended, AgentGone{ID: "x"}, finish},
		{"gone after the report", reported, AgentGone{ID: "x"}, ignore},
		{"gone, unknown id", unknown, AgentGone{ID: "x"}, ignore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.s, tt.ev); got != tt.want {
				t.Errorf("decide(%s, %T) = %s, want %s", tt.s, tt.ev, got, tt.want)
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	done := []kpi.Phase{{Name: "copy"}, {Name: PhaseReported}}
	tests := []struct {
		name  string
		rec   efsync.Record
		found bool
		want  state
	}{
		{"no record", efsync.Record{}, false, unknown},
		{"no status", efsync.Record{ID: "x"}, true, running},
		{"a status", efsync.Record{ID: "x", Status: kpi.StatusFailed, Phases: done[:1]}, true, ended},
		{"reported", efsync.Record{ID: "x", Status: kpi.StatusFailed, Phases: done}, true, reported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stateOf(tt.rec, tt.found); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSettled(t *testing.T) {
	now := time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC)
	running := efsync.Record{ID: "x", Label: "daily"}
	agent := &efsync.Record{ID: "x", Label: "daily", Status: kpi.StatusPartial}
	tests := []struct {
		name       string
		cur        efsync.Record
		found      bool
		r          AgentReport
		want       kpi.Status
		wantReason string
	}{
		{"the catalog has the status", efsync.Record{ID: "x", Status: kpi.StatusSuccess}, true, AgentReport{ID: "x", Record: agent}, kpi.StatusSuccess, ""},
		{"the agent's record", running, true, AgentReport{ID: "x", Record: agent}, kpi.StatusPartial, ""},
		{"no record, an error", running, true, AgentReport{ID: "x", Err: errors.New("lock held")}, kpi.StatusFailed, "lock held"},
		{"no record, stopped", running, true, AgentReport{ID: "x", Err: context.Canceled}, kpi.StatusIncomplete, "context canceled"},
		{"no record, no error", running, true, AgentReport{ID: "x"}, kpi.StatusFailed, "the agent ended without a status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := settled(tt.cur, tt.found, tt.r, now)
			if got.Status != tt.want || got.Reason != tt.wantReason || got.ID != "x" {
				t.Errorf("got %s %q (id %s), want %s %q", got.Status, got.Reason, got.ID, tt.want, tt.wantReason)
			}
			if got.Stop.IsZero() && tt.name != "the catalog has the status" && tt.name != "the agent's record" {
				t.Error("no stop time")
			}
		})
	}
}

func TestWantsNotice(t *testing.T) {
	for _, s := range []kpi.Status{kpi.StatusSuccess, kpi.StatusPartial, kpi.StatusIncomplete, kpi.StatusFailed} {
		for _, onSuccess := range []bool{false, true} {
			want := s != kpi.StatusSuccess || onSuccess
			if got := wantsNotice(s, onSuccess); got != want {
				t.Errorf("wantsNotice(%s, %v) = %v", s, onSuccess, got)
			}
		}
	}
}
