package local_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/local"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
)

// TestLocalBackends runs the behaviour suite on the local backends: real
// backups by efsync.Backup, of a source behind latencyfs to hold them,
// the repository's catalog and log files, and notices to a webhook.
func TestLocalBackends(t *testing.T) {
	orchestratetest.Run(t, func(t *testing.T) *orchestratetest.Harness {
		src, repo, hold := slowSource(t)
		hook := newWebhook(t)
		events := make(chan orchestrate.Event, 64)
		clock := orchestratetest.NewFakeClock(time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC))
		logs := local.NewLogFiles(repo)
		fleet := local.NewFleet(events, local.FleetOptions{Engine: efsync.Options{Grace: 200 * time.Millisecond},
			Clock: clock, Logs: logs})
		t.Cleanup(fleet.Wait)
		t.Cleanup(func() {
			for _, id := range fleet.Running() {
				fleet.Stop(t.Context(), id)
			}
		})
		return &orchestratetest.Harness{
			Plan:    orchestrate.Plan{Label: "daily", Source: src, Repo: repo, Window: time.Hour},
			Clock:   clock,
			Events:  events,
			Notices: hook.got,
			Hold:    hold,
			Log: func(id string) string {
				b, _ := os.ReadFile(filepath.Join(repo, ".efsync", "logs", id+".log"))
				return string(b)
			},
			Backends: orchestrate.Backends{Fleet: fleet, Commander: fleet, Timer: local.NewTimer(clock, events),
				Catalog: efsync.NewFileCatalog(repo), Logs: logs, Notifier: local.Webhook{URL: hook.URL},
				Metrics: local.Textfile{Path: filepath.Join(t.TempDir(), "efsync.prom")}},
		}
	})
}
