package main

import (
	"context"
	"encoding/json"
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
)

// snapshotNames returns the names in a label directory.
func snapshotNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestBackupKilledGoesOn SIGKILLs agent backup while latencyfs holds a
// write into the snapshot being built: the earlier snapshot is untouched
// and no new snapshot name appears. The next backup goes on with the
// tree, makes the only new snapshot, equal to the source, and the
// catalog says Incomplete for the killed run and Success for the second.
func TestBackupKilledGoesOn(t *testing.T) {
	backing := testtree.TempDir(t)
	src := filepath.Join(backing, "src")
	gridTree(t, src, 3, 5)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(src, "zbig"), 0o755))
	big := make([]byte, 16<<20)
	must(os.WriteFile(filepath.Join(src, "zbig", "big"), big, 0o644))
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	msrc, repo := m.Dir()+"/src", m.Dir()+"/repo"

	if code, out, errOut := agent("backup", "--json", msrc, repo); code != 0 {
		t.Fatalf("first backup: exit %d\n%s\n%s", code, out, errOut)
	}
	label := filepath.Join(backing, "repo", efsync.DefaultLabel)
	first := snapshotNames(t, label)
	if len(first) != 1 {
		t.Fatalf("after the first backup: %q", first)
	}
	before := snapshot(t, filepath.Join(label, first[0]))

	for i := range big {
		big[i] = byte(i * 13)
	}
	must(os.WriteFile(filepath.Join(src, "zbig", "big"), big, 0o644))
	must(m.SetFaults([]latencyfs.Fault{{Op: "write", Path: "repo/daily/.inprogress-*/zbig/.efsync-*", Delay: time.Minute}}))
	cmd, wait := startAgent(t, "backup", msrc, repo)
	waitFor(t, 30*time.Second, "big's temporary file in the snapshot being built", func() bool {
		dirs, _ := filepath.Glob(filepath.Join(label, ".inprogress-*", "zbig"))
		return len(dirs) == 1 && len(temps(t, dirs[0])) > 0
	})
	must(cmd.Process.Kill())
	wait()
	untouched(t, before, filepath.Join(label, first[0]))
	names := snapshotNames(t, label)
	if len(names) != 2 || !strings.HasPrefix(names[0], ".inprogress-") || names[1] != first[0] {
		t.Fatalf("after the kill: %q, want the first snapshot and a tree in progress", names)
	}

	must(m.SetFaults(nil))
	code, out, errOut := agent("backup", "--json", msrc, repo)
	if code != 0 {
		t.Fatalf("second backup: exit %d\n%s\n%s", code, out, errOut)
	}
	var rec efsync.Record
	must(json.Unmarshal([]byte(out), &rec))
	names = snapshotNames(t, label)
	if len(names) != 2 || names[0] != first[0] || names[1] != rec.ID {
		t.Fatalf("after the second backup: %q, want %s and %s", names, first[0], rec.ID)
	}
	exactCopy(t, src, filepath.Join(label, rec.ID))
	untouched(t, before, filepath.Join(label, first[0]))

	recs, err := efsync.NewFileCatalog(filepath.Join(backing, "repo")).List(context.Background())
	must(err)
	var statuses []kpi.Status
	for _, r := range recs {
		statuses = append(statuses, r.Status)
	}
	if want := []kpi.Status{kpi.StatusSuccess, kpi.StatusIncomplete, kpi.StatusSuccess}; !slices.Equal(statuses, want) {
		t.Errorf("catalog statuses %q, want %q", statuses, want)
	}
	if code, out, _ := agent("snapshots", repo); code != 0 || strings.Count(out, "success") != 2 || !strings.Contains(out, "incomplete") {
		t.Errorf("agent snapshots: exit %d\n%s", code, out)
	}
}

// TestBackupRestoreCommands runs the main command of the README's
// backup section on a small tree, restores a snapshot, a directory and a
// file with agent restore, and shows the usage errors exit 1 touching
// nothing.
func TestBackupRestoreCommands(t *testing.T) {
	f := newSyncFixture(t, testtree.TempDir(t))
	repo := filepath.Join(f.base, "repo")
	if code, _, errOut := agent("backup", "-n", "4", "--keep", "2", f.src, repo); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, errOut)
	}
	names := snapshotNames(t, filepath.Join(repo, efsync.DefaultLabel))
	if len(names) != 1 {
		t.Fatalf("snapshots: %q", names)
	}
	id := names[0]
	snap := filepath.Join(repo, efsync.DefaultLabel, id)
	whole := filepath.Join(f.base, "whole")
	if code, _, errOut := agent("restore", repo, id, whole); code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, errOut)
	}
	exactCopy(t, snap, whole)
	if code, _, errOut := agent("restore", repo, id+"/modes", filepath.Join(f.base, "modes")); code != 0 {
		t.Fatalf("restore of a directory: exit %d\n%s", code, errOut)
	}
	exactCopy(t, filepath.Join(snap, "modes"), filepath.Join(f.base, "modes"))

	before := snapshot(t, f.base)
	for _, args := range [][]string{
		{"restore", repo, id, whole},                              // not empty
		{"restore", repo, "nosuchid", filepath.Join(f.base, "x")}, // no snapshot
		{"restore", repo, id + "/../..", filepath.Join(f.base, "x")},
		{"backup", "--keep", "-1", f.src, repo},
		{"backup", "--label", "../x", f.src, repo},
		{"backup", f.src, filepath.Join(f.src, "repo")}, // the repository in the source
		{"prune", "--keep", "1"},
		{"snapshots", f.src},
	} {
		code, _, errOut := agent(args...)
		if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || errOut == "" {
			t.Errorf("agent %q: exit %d, want 1 with one line\n%s", args, code, errOut)
		}
	}
	untouched(t, before, f.base)
}

// TestVerifyCommand verifies a fresh snapshot (exit 0, changed-only,
// full and against its source), then flips a byte of a file in it, its
// mtime restored: verify --full exits 2 naming the file, and so does
// verify --source.
func TestVerifyCommand(t *testing.T) {
	f := newSyncFixture(t, testtree.TempDir(t))
	repo := filepath.Join(f.base, "repo")
	if code, _, errOut := agent("backup", "-n", "4", f.src, repo); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, errOut)
	}
	for _, args := range [][]string{{"verify", repo}, {"verify", "--full", repo}, {"verify", "--source", f.src, repo}} {
		if code, out, errOut := agent(args...); code != 0 {
			t.Errorf("agent %q: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	id := snapshotNames(t, filepath.Join(repo, efsync.DefaultLabel))[0]
	snap := filepath.Join(repo, efsync.DefaultLabel, id)
	var victim string
	for rel, n := range snapshot(t, snap) {
		if n.Type == testtree.File && n.Size > 0 && (victim == "" || rel < victim) {
			victim = rel
		}
	}
	p := filepath.Join(snap, victim)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, st.Mode())
	os.Chtimes(p, st.ModTime(), st.ModTime())
	for _, args := range [][]string{{"verify", "--full", repo, id}, {"verify", "--source", f.src, repo, id}} {
		code, out, _ := agent(args...)
		if code != 2 || !strings.Contains(out, victim+": content") {
			t.Errorf("agent %q after a flipped byte in %s: exit %d\n%s", args, victim, code, out)
		}
	}
}

// TestAgentStopStopsBackup stops a plain agent backup, no daemon, with
// agent stop while latencyfs holds a write for 2 s: the chunk in flight
// finishes within the grace period, the backup exits 3, and its record
// says Incomplete, with no snapshot made.
func TestAgentStopStopsBackup(t *testing.T) {
	backing := testtree.TempDir(t)
	src := filepath.Join(backing, "src")
	gridTree(t, src, 2, 3)
	if err := os.Mkdir(filepath.Join(src, "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "zbig", "big"), make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "repo/daily/.inprogress-*/zbig/.efsync-*", Delay: 2 * time.Second, Times: 1}}})
	repo, state := m.Dir()+"/repo", t.TempDir()
	cmd, wait := startAgent(t, "backup", "--state-dir", state, "-n", "1", "--grace", "1m", m.Dir()+"/src", repo)
	label := filepath.Join(backing, "repo", efsync.DefaultLabel)
	waitFor(t, 30*time.Second, "big's temporary file", func() bool {
		dirs, _ := filepath.Glob(filepath.Join(label, ".inprogress-*", "zbig"))
		return len(dirs) == 1 && len(temps(t, dirs[0])) > 0
	})
	_ = cmd
	code, out, errOut := agent("stop", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "stopping") {
		t.Fatalf("agent stop: exit %d\n%s%s", code, out, errOut)
	}
	if code, out := wait(); code != 3 {
		t.Fatalf("backup: exit %d, want 3\n%s", code, out)
	}
	if done, _ := filepath.Glob(filepath.Join(label, ".inprogress-*", "zbig", "big")); len(done) != 1 {
		t.Errorf("the chunk in flight did not finish within the grace period: %q", done)
	}
	recs, err := efsync.NewFileCatalog(filepath.Join(backing, "repo")).List(context.Background())
	if err != nil || len(recs) != 1 || recs[0].Status != kpi.StatusIncomplete || recs[0].Snapshot != "" {
		t.Errorf("catalog: %v %+v", err, recs)
	}
}
