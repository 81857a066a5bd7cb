package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/local"
)

// TestDaemonTwoScheduledBackups moves a fake clock over two nights of a
// "0 2 * * *" schedule: two backups, each with its own id, record,
// snapshot and log, both Success, no notice, and the metrics textfile
// says success.
func TestDaemonTwoScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	src, repo, prom := filepath.Join(dir, "src"), filepath.Join(dir, "repo"), filepath.Join(dir, "efsync.prom")
	writeTree(t, src, 20)
	hook := newWebhook(t)
	clock := daemon(t, local.Config{Plan: orchestrate.Plan{Label: "daily", Source: src, Repo: repo, Window: 3 * time.Hour},
		Notifier: local.Webhook{URL: hook.URL}, MetricsFile: prom})
	for night := 1; night <= 2; night++ {
		clock.WaitPending(t, 1, 10*time.Second) // the daemon waits for 02:00
		if night == 1 {
			clock.Advance(time.Minute)
		} else {
			clock.Advance(24 * time.Hour)
		}
		waitFor(t, 30*time.Second, "the backup's report", func() bool { return len(reported(t, repo)) == night })
	}
	recs := records(t, repo)
	if len(recs) != 2 || recs[0].ID == recs[1].ID {
		t.Fatalf("records %+v, want two with their own ids", recs)
	}
	for _, r := range recs {
		if r.Status != kpi.StatusSuccess || r.Snapshot == "" {
			t.Errorf("backup %s: status %s (%s), snapshot %q", r.ID, r.Status, r.Reason, r.Snapshot)
		}
		if !strings.HasPrefix(r.ID, "20300301T0200") && !strings.HasPrefix(r.ID, "20300302T0200") {
			t.Errorf("id %s: not made at the scheduled time", r.ID)
		}
		log, err := os.ReadFile(filepath.Join(repo, ".efsync", "logs", r.ID+".log"))
		if err != nil || !strings.Contains(string(log), `"by":"agent"`) || !strings.Contains(string(log), `"msg":"scheduled"`) {
			t.Errorf("log of %s: %v\n%s", r.ID, err, log)
		}
	}
	if n := hook.got(); len(n) != 0 {
		t.Errorf("successes sent notices: %+v", n)
	}
	m, err := os.ReadFile(prom)
	if err != nil || !strings.Contains(string(m), `efsync_run_status{status="success"} 1`) {
		t.Errorf("metrics textfile: %v\n%s", err, m)
	}
}

// TestDaemonWindowStopsBackup runs a backup that outlasts its window of
// an hour: at the window's end, on the fake clock, it is stopped
// gracefully, recorded Incomplete, and the webhook gets a notice saying
// so; the daemon goes on.
func TestDaemonWindowStopsBackup(t *testing.T) {
	src, repo, hold := slowSource(t)
	hold(true)
	hook := newWebhook(t)
	clock := daemon(t, local.Config{Plan: orchestrate.Plan{Label: "daily", Source: src, Repo: repo, Window: time.Hour},
		Notifier: local.Webhook{URL: hook.URL}})
	clock.WaitPending(t, 1, 10*time.Second)
	clock.Advance(time.Minute)
	waitFor(t, 30*time.Second, "the copy of the big file", func() bool {
		m, _ := filepath.Glob(filepath.Join(repo, "daily", ".inprogress-*", "zbig", ".efsync-*"))
		return len(m) > 0
	})
	start := time.Now()
	clock.Advance(time.Hour)
	waitFor(t, 30*time.Second, "the stopped backup's report", func() bool { return len(reported(t, repo)) == 1 })
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the stop took %s, with a grace of 200ms", took)
	}
	r := records(t, repo)[0]
	if r.Status != kpi.StatusIncomplete || r.Snapshot != "" {
		t.Errorf("record: status %s (%s), snapshot %q; want incomplete, none", r.Status, r.Reason, r.Snapshot)
	}
	n := hook.got()
	if len(n) != 1 || n[0].ID != r.ID || n[0].Status != kpi.StatusIncomplete || !strings.HasSuffix(n[0].Log, r.ID+".log") {
		t.Errorf("notices %+v, want one incomplete of %s with its log", n, r.ID)
	}
	clock.WaitPending(t, 1, 10*time.Second) // the next night is armed
}

// TestDaemonRetentionKeepsN runs four nightly backups with Keep.Last 2:
// two snapshots are left, the newest.
func TestDaemonRetentionKeepsN(t *testing.T) {
	dir := t.TempDir()
	src, repo := filepath.Join(dir, "src"), filepath.Join(dir, "repo")
	writeTree(t, src, 5)
	clock := daemon(t, local.Config{Plan: orchestrate.Plan{Label: "daily", Source: src, Repo: repo,
		Window: time.Hour, Keep: efsync.Retention{Last: 2}}})
	for night := 1; night <= 4; night++ {
		clock.WaitPending(t, 1, 10*time.Second)
		if night == 1 {
			clock.Advance(time.Minute)
		} else {
			clock.Advance(24 * time.Hour)
		}
		waitFor(t, 30*time.Second, "the backup's report", func() bool { return len(reported(t, repo)) == night })
		os.WriteFile(filepath.Join(src, "night"), []byte{byte(night)}, 0o644)
	}
	recs := records(t, repo)
	var want []string
	for _, r := range recs[2:] {
		want = append(want, r.ID)
	}
	ents, err := os.ReadDir(filepath.Join(repo, "daily"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("snapshots left %q, want the newest two %q", got, want)
	}
	for _, r := range recs[:2] {
		if r.Pruned.IsZero() {
			t.Errorf("record %s not marked pruned", r.ID)
		}
	}
}

// TestDaemonRecordsDeadBackup starts a daemon on a repository where the
// last daemon died during a backup, leaving its record without status:
// the new daemon records it Incomplete, says why, and sends a notice.
func TestDaemonRecordsDeadBackup(t *testing.T) {
	dir := t.TempDir()
	src, repo := filepath.Join(dir, "src"), filepath.Join(dir, "repo")
	writeTree(t, src, 5)
	id := efsync.NewBackupID(time.Date(2030, 2, 28, 2, 0, 0, 0, time.UTC))
	if err := efsync.NewFileCatalog(repo).Put(t.Context(), efsync.Record{ID: id, Label: "daily", Source: src, Repo: repo}); err != nil {
		t.Fatal(err)
	}
	hook := newWebhook(t)
	daemon(t, local.Config{Plan: orchestrate.Plan{Label: "daily", Source: src, Repo: repo, Window: time.Hour},
		Notifier: local.Webhook{URL: hook.URL}})
	waitFor(t, 10*time.Second, "the dead backup's record", func() bool { return len(reported(t, repo)) == 1 })
	r := records(t, repo)[0]
	if r.Status != kpi.StatusIncomplete || !strings.Contains(r.Reason, "daemon ended") {
		t.Errorf("record: %s %q, want incomplete, saying the daemon ended", r.Status, r.Reason)
	}
	if n := hook.got(); len(n) != 1 || n[0].ID != id {
		t.Errorf("notices %+v, want one of %s", n, id)
	}
}
