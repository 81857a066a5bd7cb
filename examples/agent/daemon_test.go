package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// slowBackup starts agent daemon as a child process with --now on a
// source whose big file's first write into the snapshot latencyfs holds
// for hold, and returns once that write is held, with the repository's
// path outside the mount, the state directory and the daemon.
func slowBackup(t *testing.T, hold time.Duration, args ...string) (repo, state string, proc *os.Process, wait func() (int, string)) {
	t.Helper()
	backing := testtree.TempDir(t)
	gridTree(t, filepath.Join(backing, "src"), 3, 5)
	if err := os.MkdirAll(filepath.Join(backing, "src", "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backing, "src", "zbig", "big"), make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "repo/daily/.inprogress-*/zbig/.efsync-*", Delay: hold, Times: 1}}})
	state = t.TempDir()
	cmd, wait := startAgent(t, append(append([]string{"daemon", "--state-dir", state, "--schedule", "@every 24h"},
		args...), m.Dir()+"/src", m.Dir()+"/repo")...)
	repo = filepath.Join(backing, "repo")
	waitFor(t, 30*time.Second, "the big file's copy", func() bool {
		found, _ := filepath.Glob(filepath.Join(repo, "daily", ".inprogress-*", "zbig", ".efsync-*"))
		return len(found) > 0
	})
	return repo, state, cmd.Process, wait
}

// oneRecord returns the only record of repo.
func oneRecord(t *testing.T, repo string) efsync.Record {
	t.Helper()
	recs, err := efsync.NewFileCatalog(repo).List(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("records: %v %+v, want one", err, recs)
	}
	return recs[0]
}

// TestAgentStopStopsDaemonBackup runs agent daemon, and agent stop while
// a write of its backup is held for 2 s: the chunk in flight finishes
// within the grace period, the daemon exits 0, and the record says
// Incomplete, with metrics and a notice out (by a command here).
func TestAgentStopStopsDaemonBackup(t *testing.T) {
	notices := filepath.Join(t.TempDir(), "notices")
	repo, state, _, wait := slowBackup(t, 2*time.Second, "--now", "--window", "3h", "--grace", "1m", "-n", "1",
		"--notify-command", "cat >> "+notices)
	start := time.Now()
	code, out, errOut := agent("stop", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "stopping the daemon") {
		t.Fatalf("agent stop: exit %d\n%s%s", code, out, errOut)
	}
	if code, out := wait(); code != 0 {
		t.Fatalf("daemon: exit %d, want 0\n%s", code, out)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the daemon took %s to stop, with 2 s of held write", took)
	}
	r := oneRecord(t, repo)
	if r.Status != kpi.StatusIncomplete || r.Snapshot != "" {
		t.Errorf("record: %s (%s), snapshot %q; want incomplete and none", r.Status, r.Reason, r.Snapshot)
	}
	if done, _ := filepath.Glob(filepath.Join(repo, "daily", ".inprogress-*", "zbig", "big")); len(done) != 1 {
		t.Errorf("the chunk in flight did not finish within the grace period: %q", done)
	}
	if !slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseReported }) {
		t.Errorf("record not reported: %+v", r.Phases)
	}
	if n, err := os.ReadFile(notices); err != nil || !strings.Contains(string(n), `"status":"incomplete"`) {
		t.Errorf("notice: %v %s", err, n)
	}
	if code, _, errOut := agent("stop", "--state-dir", state); code != 1 || !strings.Contains(errOut, "no daemon answers") {
		t.Errorf("agent stop with no daemon: exit %d, %q", code, errOut)
	}
}

// TestDaemonCrashStillRecorded SIGKILLs agent daemon during a backup,
// which leaves no report: the next daemon records the backup Incomplete
// and says why, and its log is kept (the seed left no record of a run
// that died).
func TestDaemonCrashStillRecorded(t *testing.T) {
	repo, state, proc, wait := slowBackup(t, time.Minute, "--now")
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	wait()
	id := oneRecord(t, repo).ID
	_, wait = startAgent(t, "daemon", "--state-dir", state, "--schedule", "@every 24h", t.TempDir(), repo)
	waitFor(t, 30*time.Second, "the dead backup's record", func() bool { return oneRecord(t, repo).Status != "" })
	if code, out, errOut := agent("stop", "--state-dir", state); code != 0 {
		t.Fatalf("agent stop: exit %d\n%s%s", code, out, errOut)
	}
	wait()
	r := oneRecord(t, repo)
	if r.ID != id || r.Status != kpi.StatusIncomplete || !strings.Contains(r.Reason, "daemon ended") {
		t.Errorf("record %s: %s %q, want %s incomplete, saying the daemon ended", r.ID, r.Status, r.Reason, id)
	}
	log, err := os.ReadFile(filepath.Join(repo, ".efsync", "logs", id+".log"))
	if err != nil || !strings.Contains(string(log), "backup starts") || !strings.Contains(string(log), "AgentGone") {
		t.Errorf("log: %v\n%s", err, log)
	}
}

// TestDaemonBadInput: a one-line error naming the cause, exit 1.
func TestDaemonBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, want string
		args       []string
	}{
		{"no schedule", "--schedule is required", []string{dir, dir + "/repo"}},
		{"bad schedule", `schedule "0 25 * * *"`, []string{"--schedule", "0 25 * * *", dir, dir + "/repo"}},
		{"max duration", "--max-duration", []string{"--schedule", "@daily", "--max-duration", "1h", dir, dir + "/repo"}},
		{"margin past the window", "margin 2h", []string{"--schedule", "@daily", "--window", "1h", "--margin", "2h", "--state-dir", dir, dir, dir + "/repo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := agent(append([]string{"daemon"}, tt.args...)...)
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line with %q", code, errOut, tt.want)
			}
		})
	}
}
