package kpi_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

func TestPhases(t *testing.T) {
	clk := &clock{t: t0}
	c := kpi.New(kpi.Options{Now: clk.now})
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

	clk.at(1 * time.Second)
	stopA := c.StartPhase("copy")
	clk.at(2 * time.Second)
	stopB := c.StartPhase("copy")
	crawl := c.StartPhase("crawl") // started later: listed after copy
	clk.at(3 * time.Second)
	stopA()
	stopA() // a second stop does not end B's start
	crawl()
	clk.at(5 * time.Second)

	want := []kpi.Phase{
		{Name: "copy", Start: sec(1), Seconds: 4, Running: true},
		{Name: "crawl", Start: sec(2), Stop: sec(3), Seconds: 1},
	}
	if diff := cmp.Diff(want, c.Report().Phases); diff != "" {
		t.Errorf("while B runs (-want +got):\n%s", diff)
	}

	stopB()
	clk.at(7 * time.Second)
	c.StartPhase("copy")() // again: first start, last stop
	want[0] = kpi.Phase{Name: "copy", Start: sec(1), Stop: sec(7), Seconds: 6}
	if diff := cmp.Diff(want, c.Report().Phases); diff != "" {
		t.Errorf("after stops (-want +got):\n%s", diff)
	}
	if got := want[0].Duration(); got != 6*time.Second {
		t.Errorf("Duration() = %v, want 6s", got)
	}
}

func TestRunningPhaseEndsAtFinish(t *testing.T) {
	clk := &clock{t: t0}
	c := kpi.New(kpi.Options{Now: clk.now})
	c.StartPhase("prune")
	clk.at(time.Minute)
	c.Finish(kpi.StatusIncomplete)
	clk.at(time.Hour)
	p := c.Report().Phases[0]
	if !p.Running || p.Seconds != 60 {
		t.Errorf("phase = %+v, want running for 60 s (until Finish)", p)
	}
}

func TestStatusExitCode(t *testing.T) {
	tests := []struct {
		name   string
		status kpi.Status
		want   int
	}{
		{"success", kpi.StatusSuccess, 0},
		{"partial", kpi.StatusPartial, 2},
		{"incomplete", kpi.StatusIncomplete, 3},
		{"failed", kpi.StatusFailed, 4},
		{"running", "", 1},
		{"unknown", "Unknown", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.status.ExitCode(); got != tt.want {
				t.Errorf("%q.ExitCode() = %d, want %d", tt.status, got, tt.want)
			}
		})
	}
}
