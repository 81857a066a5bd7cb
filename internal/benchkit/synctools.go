package benchkit

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// SyncTools runs the contenders of a sync race as child processes, each
// making DST an exact copy of SRC and returning its peak RSS (see Cmd):
// efsync's agent, rsync and fpsync. Running efsync as a child too, not in
// the benchmark's process, makes its peak RSS its own. The methods are
// safe for concurrent use and stop when ctx is cancelled.
type SyncTools struct {
	// config
	agent, rsync, fpsync string // programs
	stateDir             string // efsync's --state-dir
	fpsyncDir            string // fpsync -t: its queue, parts and logs
}

// NewSyncTools builds the agent (once: call it once per benchmark) and
// finds rsync and fpsync, skipping or failing tb as testenv does when one
// is missing. It must run in the module root, as the benchmarks of package
// efsync do.
func NewSyncTools(tb testing.TB) *SyncTools {
	tb.Helper()
	tools := Tools(tb, "rsync", "fpsync")
	return &SyncTools{agent: Build(tb, "./examples/agent"), rsync: tools[0], fpsync: tools[1],
		stateDir: tb.TempDir(), fpsyncDir: tb.TempDir()}
}

// Efsync runs `agent sync -E -n workers --state-dir DIR SRC DST`; workers
// 0 leaves -n at its default (8 × CPUs). A partial run (exit 2) is an
// error: every entry must be copied.
func (t *SyncTools) Efsync(ctx context.Context, workers int, src, dst string) (int64, error) {
	args := []string{"sync", "-E"}
	if workers > 0 {
		args = append(args, "-n", strconv.Itoa(workers))
	}
	args = append(args, "--state-dir", t.stateDir, src, dst)
	return Cmd(ctx, t.agent, args...)
}

// Agent runs the agent with args, as a child process.
func (t *SyncTools) Agent(ctx context.Context, args ...string) (int64, error) {
	return Cmd(ctx, t.agent, args...)
}

// RsyncArgs runs rsync with args, as a child process.
func (t *SyncTools) RsyncArgs(ctx context.Context, args ...string) (int64, error) {
	return Cmd(ctx, t.rsync, args...)
}

// Rsync runs `rsync -aH --delete SRC/ DST/`, the baseline of
// BENCHMARKS.md.
func (t *SyncTools) Rsync(ctx context.Context, src, dst string) (int64, error) {
	return Cmd(ctx, t.rsync, "-aH", "--delete", src+"/", dst+"/")
}

// Fpsync runs `fpsync -n 8 -E -f files SRC/ DST/` (files 0 leaves -f at
// its default, 2000) with the options 1.5.1
// needs or picks by itself, spelled out so that another version runs the
// same rsync: -t its own work directory (absolute, as fpsync requires;
// runs pile up there, not in /tmp/fpsync), -T the rsync to run (which
// 1.5.1 also needs to resume a run), -o 1.5.1's default rsync options
// (1.6 swapped -v for -q). Its peak RSS is the shell script's, not its
// rsyncs': callers should not report it.
func (t *SyncTools) Fpsync(ctx context.Context, files int, src, dst string) (int64, error) {
	args := []string{"-n", "8", "-E", "-t", t.fpsyncDir, "-T", t.rsync, "-o", "-lptgoD -v --numeric-ids"}
	if files > 0 {
		args = append(args, "-f", strconv.Itoa(files))
	}
	return Cmd(ctx, t.fpsync, append(args, src+"/", dst+"/")...)
}

// Build compiles the Go command pkg (a path relative to the working
// directory, such as ./examples/agent) into a new temporary directory of
// tb and returns the binary's path.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
