// Package testenv answers what a test may rely on in its environment: outside
// tools (rsync, fpart, FUSE, node) and privileges.
//
// A test that needs something missing calls t.Skip with a message naming it,
// unless EFSYNC_REQUIRE_TOOLS=1 is set (as .ci/run does): then it fails, so
// that a CI machine missing a tool can't pass by skipping.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv is the environment variable that turns skips into failures.
const RequireToolsEnv = "EFSYNC_REQUIRE_TOOLS"

// Strict reports whether missing tools must fail tests rather than skip them.
func Strict() bool { return os.Getenv(RequireToolsEnv) == "1" }

// Need skips tb, or fails it under EFSYNC_REQUIRE_TOOLS=1, when ok is false.
// why says what is missing, e.g. "rsync not in PATH".
func Need(tb testing.TB, ok bool, why string) {
	tb.Helper()
	if ok {
		return
	}
	if Strict() {
		tb.Fatalf("%s (required: %s=1)", why, RequireToolsEnv)
	}
	tb.Skipf("skipped: %s (set %s=1 to make this a failure)", why, RequireToolsEnv)
}

// Tool returns the path of the named program, skipping or failing tb as Need
// does when it is not installed.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	Need(tb, err == nil, fmt.Sprintf("%s not in PATH", name))
	return p
}

// Root reports whether the process runs with uid 0, so that chown, mknod and
// trusted.* xattrs work.
func Root() bool { return os.Geteuid() == 0 }

// NeedRoot skips tb when the process is not privileged. Privilege is never
// required by CI for a test to run, so this never fails.
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if !Root() {
		tb.Skip("skipped: needs root (chown, mknod or trusted.* xattrs)")
	}
}
