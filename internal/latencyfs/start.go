package latencyfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
)

// Available reports why latencyfs cannot mount here (nil if it can): it
// needs /dev/fuse, readable and writable by this user, and fusermount3.
func Available() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("FUSE unavailable: %w", err)
	}
	f.Close()
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return errors.New("FUSE unavailable: fusermount3 not in PATH")
	}
	return nil
}

// Start mounts backing through latencyfs on a new temporary directory and
// registers a cleanup that unmounts it (also when the test fails) and logs
// the child's output if the test failed. It skips tb where FUSE is
// missing, or fails it under EFSYNC_REQUIRE_TOOLS=1 (see testenv.Need).
//
// The file system runs in a child process, never in the test process: see
// Serve. If the test binary dies (timeout panic, SIGKILL), the child
// notices and unmounts itself.
func Start(tb testing.TB, backing string, opt Options) *Mount {
	tb.Helper()
	err := Available()
	testenv.Need(tb, err == nil, fmt.Sprint(err))
	dir := tb.TempDir() // registered first, so removed after the unmount below
	m, err := StartProcess(tb.Context(), backing, dir, opt)
	if err != nil {
		tb.Fatalf("latencyfs: %v", err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("latencyfs close: %v", err)
		}
		if out := m.Output(); tb.Failed() && out != "" {
			tb.Logf("latencyfs output:\n%s", out)
		}
	})
	return m
}
