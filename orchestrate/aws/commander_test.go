package aws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/internal/awsfake"
)

// TestCommander: Stop sends AWS-RunShellScript to the group's instances,
// calling the agent at AgentPath with stop --id and the id; twice is
// harmless, and a group without instances too.
func TestCommander(t *testing.T) {
	e := newEnv(t, false)
	id := "20300101T020000.000Z-abcdef"
	for range 2 {
		if err := e.b.Commander.Stop(t.Context(), id); err != nil {
			t.Fatal(err)
		}
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
	if err := e.b.Commander.Stop(t.Context(), id); err != nil {
		t.Errorf("no instance to stop: %v", err)
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
