package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testenv"
)

// hostScript runs in a new mount namespace: it mounts latencyfs ($B at
// $M, options $O), waits until it serves, then runs the agent with the
// script's arguments.
const hostScript = `"$LFS" -backing "$B" -mount "$M" -options "$O" -watch-stdin=false > "$R" 2>&1 &
until grep -q ready "$R"; do sleep 0.02; done
exec "$AGENT" "$@"`

// startHost runs the agent with args as on a host of its own, as agents
// on several EC2 instances each mount EFS through their own NFS client:
// in a mount namespace of its own, latencyfs mounts backing at mount, the
// path where the test's own mount is, through a FUSE server of its own.
// The agent, and its file system, end with the test.
func startHost(tb testing.TB, backing, mount string, opt latencyfs.Options, args ...string) {
	tb.Helper()
	_, err := exec.LookPath("unshare")
	testenv.Need(tb, err == nil && os.Geteuid() == 0, "a host of its own needs unshare (util-linux) and root")
	lfs, err := latencyfs.Binary(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	bin, err := agentBin()
	if err != nil {
		tb.Fatal(err)
	}
	o, err := json.Marshal(opt)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", hostScript, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), "LFS="+lfs, "B="+backing, "M="+mount, "O="+string(o),
		"R="+filepath.Join(tb.TempDir(), "latencyfs.out"), "AGENT="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the agent and its latencyfs, killed together
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		if tb.Failed() {
			tb.Logf("host %v:\n%s", args, out.String())
		}
	})
}
