package main

import (
	"strings"
	"testing"
	"time"
)

// goodEnv is the environment template.json gives the function.
var goodEnv = map[string]string{
	"EFSYNC_GROUP": "efsync-agents", "EFSYNC_HOOK": "efsync-terminate", "EFSYNC_TABLE": "efsync-backups",
	"EFSYNC_BUCKET": "efsync-logs", "EFSYNC_TOPIC": "arn:aws:sns:eu-west-1:123456789012:efsync",
	"EFSYNC_TIMER_TARGET": "arn:aws:lambda:eu-west-1:123456789012:function:efsync-orchestrator",
	"EFSYNC_RULE_PREFIX":  "efsync-window-",
	"EFSYNC_SOURCE":       "/mnt/efsync/source", "EFSYNC_REPO": "/mnt/efsync/backup", "EFSYNC_WINDOW": "3h",
	"EFSYNC_KEEP": "7",
}

// env returns goodEnv with changes (a value "" unsets), as a getenv.
func env(changes map[string]string) func(string) string {
	m := map[string]string{}
	for k, v := range goodEnv {
		m[k] = v
	}
	for k, v := range changes {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestConfigFrom(t *testing.T) {
	c, err := configFrom(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, r := c.Plan, c.Resources
	if p.Label != "daily" || p.Window != 3*time.Hour || p.Margin != 15*time.Minute || p.Keep.Last != 7 || p.NotifySuccess ||
		p.Agents != 1 || r.TTL != 90*24*time.Hour || r.Namespace != "efsync" || r.AgentPath != "/usr/local/bin/efsync-agent" || r.Table != "efsync-backups" {
		t.Errorf("defaults: %+v", c)
	}
	if c, err := configFrom(env(map[string]string{"EFSYNC_AGENTS": "3"})); err != nil || c.Plan.Agents != 3 {
		t.Errorf("EFSYNC_AGENTS 3: %d agents, %v", c.Plan.Agents, err)
	}
	tests := []struct {
		name    string
		changes map[string]string
		wantErr string
	}{
		{"missing", map[string]string{"EFSYNC_TABLE": "", "EFSYNC_WINDOW": " "}, "missing EFSYNC_TABLE, EFSYNC_WINDOW"},
		{"bad window", map[string]string{"EFSYNC_WINDOW": "180"}, `EFSYNC_WINDOW "180": want a positive duration`},
		{"negative window", map[string]string{"EFSYNC_WINDOW": "-3h"}, `EFSYNC_WINDOW "-3h"`},
		{"margin over window", map[string]string{"EFSYNC_MARGIN": "3h"}, "leaves nothing of EFSYNC_WINDOW 3h0m0s"},
		{"bad keep", map[string]string{"EFSYNC_KEEP": "seven"}, `EFSYNC_KEEP "seven"`},
		{"bad record days", map[string]string{"EFSYNC_RECORD_DAYS": "-1"}, `EFSYNC_RECORD_DAYS "-1"`},
		{"bad bool", map[string]string{"EFSYNC_NOTIFY_SUCCESS": "yes please"}, `EFSYNC_NOTIFY_SUCCESS "yes please": want true or false`},
		{"no agents", map[string]string{"EFSYNC_AGENTS": "0"}, "EFSYNC_AGENTS 0: want 1 or more"},
		{"bad agents", map[string]string{"EFSYNC_AGENTS": "three"}, `EFSYNC_AGENTS "three"`},
		{"relative source", map[string]string{"EFSYNC_SOURCE": "mnt/src"}, "want absolute paths"},
		{"restore label", map[string]string{"EFSYNC_LABEL": "restore"}, "the label of restores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configFrom(env(tt.changes))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err %v, want one line with %q", err, tt.wantErr)
			}
		})
	}
}
