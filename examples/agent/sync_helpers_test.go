package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
)

// syncFixture is a source with a small tree, a destination path and a
// state directory, all under one temporary directory.
type syncFixture struct {
	base, src, dst, state string
}

func newSyncFixture(t *testing.T, base string) *syncFixture {
	t.Helper()
	f := &syncFixture{base: base, src: filepath.Join(base, "src"), dst: filepath.Join(base, "dst"),
		state: filepath.Join(t.TempDir(), "state")}
	if err := os.Mkdir(f.src, 0o755); err != nil {
		t.Fatal(err)
	}
	o := testtree.Small(7)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(f.src); err != nil {
		t.Fatal(err)
	}
	return f
}

// sync runs agent sync in this process with --state-dir and args, and
// returns its exit code and output.
func (f *syncFixture) sync(args ...string) (int, string, string) {
	return agent(append([]string{"sync", "--state-dir", f.state}, args...)...)
}

// report parses the --json report in out.
func report(t *testing.T, out string) kpi.Report {
	t.Helper()
	r, err := kpi.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return r
}

// exactCopy fails t unless dst is an exact copy of src, by the comparator
// and by rsync, and holds no temporary file.
func exactCopy(t *testing.T, src, dst string) {
	t.Helper()
	testtree.RequireExact(t, src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
	if tmp := temps(t, dst); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}

// temps returns the temporary files under root.
func temps(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && transfer.IsTemp(d.Name()) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// snapshot scans root with content hashes, to show later that nothing in
// it changed.
func snapshot(t *testing.T, root string) testtree.Snapshot {
	t.Helper()
	s, err := testtree.Scan(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func untouched(t *testing.T, before testtree.Snapshot, root string) {
	t.Helper()
	for _, d := range testtree.CompareSnapshots(before, snapshot(t, root), testtree.CompareOptions{}) {
		t.Errorf("destination touched: %s", d)
	}
}

// agentBin builds the agent once, for tests that must signal or kill it.
var agentBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "efsync-agent-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{err, string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// startAgent starts the agent binary with args, its output kept in buffers
// the returned wait gives back.
func startAgent(t testing.TB, args ...string) (*exec.Cmd, func() (int, string)) {
	t.Helper()
	bin, err := agentBin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, func() (int, string) {
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), out.String()
	}
}

// waitFor polls cond every 10 ms until it holds, failing t after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
	}
}

// runDir returns the journal directory of the only pair in state, run id.
func runDir(t *testing.T, state, id string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(state, "*", "runs", id))
	if err != nil || len(m) != 1 {
		t.Fatalf("run %s in %s: %v %q", id, state, err, m)
	}
	return m[0]
}

var _ = json.Marshal
