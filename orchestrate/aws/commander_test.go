package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/kpi"
)

// TestCommander: Stop records the request in the running job's item,
// where a Put of the agent keeps it, then sends AWS-RunShellScript to the
// group's instances, calling the agent at AgentPath with stop --id and
// the id; twice is harmless, and a group without instances too. A stop
// of an ended or an unknown job records nothing.
func TestCommander(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	cat := e.b.Catalog.(*Catalog)
	id := "20300101T020000.000Z-abcdef"
	job := efsync.Record{ID: id, Label: "daily", Start: e.now}
	if err := cat.Put(ctx, job); err != nil {
		t.Fatal(err)
	}
	if _, asked, err := cat.StopRequested(ctx, id); err != nil || asked {
		t.Fatalf("before any stop: requested %v, %v", asked, err)
	}
	for range 2 {
		if err := e.b.Commander.Stop(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	job.Host = "i-booted-late" // the agent claims its job after the stop
	if err := cat.Put(ctx, job); err != nil {
		t.Fatal(err)
	}
	if at, asked, err := cat.StopRequested(ctx, id); err != nil || !asked || !at.Equal(e.now) {
		t.Errorf("after the stops and the agent's claim: requested %v at %v (%v), want at %v", asked, at, err, e.now)
	}
	calls := e.fake.Calls("ssm:SendCommand")
	if len(calls) != 2 {
		t.Fatalf("%d SendCommand, want 2", len(calls))
	}
	p := calls[0].Params
	if p["DocumentName"] != "AWS-RunShellScript" {
		t.Errorf("document %v", p["DocumentName"])
	}
	wantTargets := []any{map[string]any{"Key": "tag:aws:autoscaling:groupName", "Values": []any{e.res.Group}}}
	if d := cmp.Diff(wantTargets, p["Targets"]); d != "" {
		t.Errorf("targets (-want +got):\n%s", d)
	}
	cmds, _ := p["Parameters"].(map[string]any)["commands"].([]any)
	if len(cmds) != 1 || cmds[0] != "/usr/local/bin/agent stop --id "+id || !strings.Contains(cmds[0].(string), "agent stop --id "+id) {
		t.Errorf("commands %v, want the agent's stop of %s", cmds, id)
	}
	e.fake.Handle("ssm:SendCommand", func(awsfake.Call) (any, *awsfake.APIError) {
		return nil, &awsfake.APIError{Status: 400, Code: "InvalidInstanceId", Message: "no instance"}
	})
	if err := e.b.Commander.Stop(ctx, id); err != nil {
		t.Errorf("no instance to stop: %v", err)
	}

	ended, unknown := "20300101T030000.000Z-abcdef", "20300101T040000.000Z-abcdef"
	if err := cat.Put(ctx, efsync.Record{ID: ended, Start: e.now, Stop: e.now, Status: kpi.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ended, unknown} {
		if err := e.b.Commander.Stop(ctx, id); err != nil {
			t.Errorf("stop %s: %v", id, err)
		}
		if _, asked, err := cat.StopRequested(ctx, id); err != nil || asked {
			t.Errorf("stop of %s: requested %v (%v), want nothing recorded", id, asked, err)
		}
	}
	if _, err := cat.Get(ctx, unknown); !errors.Is(err, efsync.ErrNotFound) {
		t.Errorf("the stop of an unknown id made a record: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"plain", "/usr/local/bin/agent", "/usr/local/bin/agent"},
		{"space", "/opt/my agent", "'/opt/my agent'"},
		{"quote", "a'b;rm", `'a'\''b;rm'`},
		{"empty", "", "''"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := shellQuote(tt.in); got != tt.want {
				t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
