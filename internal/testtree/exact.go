package testtree

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
)

// RequireExact fails t unless dst is an exact copy of src, by the
// comparator (with opt) and by the rsync oracle the README names: rsync
// -aHAX --numeric-ids -c --modify-window=-1 -n --delete -i must list
// nothing (-aHX without privilege, where other users' ACLs can't be read
// back).
func RequireExact(t testing.TB, src, dst string, opt CompareOptions) {
	t.Helper()
	diffs, err := Compare(context.Background(), src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("comparator: %s", d)
	}
	args := []string{"-aHAX", "--numeric-ids", "-c", "--modify-window=-1", "-n", "--delete", "-i", src + "/", dst + "/"}
	if os.Geteuid() != 0 {
		args[0] = "-aHX"
	}
	out, err := exec.Command(testenv.Tool(t, "rsync"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rsync oracle: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("rsync oracle lists differences:\n%s", s)
	}
}
