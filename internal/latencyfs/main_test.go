package latencyfs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a helper process instead of
// running tests (the os/exec tests' pattern): "mount" starts latencyfs and
// waits to be killed; "write" writes to a file until killed.
const helperEnv = "LATENCYFS_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "mount":
		os.Exit(helperMount(os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]))
	case "write":
		os.Exit(helperWrite(os.Args[len(os.Args)-1]))
	}
	fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
	os.Exit(2)
}

// helperMount mounts backing on dir, prints the child's pid and blocks
// until it is killed, without ever closing the mount.
func helperMount(backing, dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := StartProcess(ctx, backing, dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("pid %d\n", m.cmd.Process.Pid)
	select {} // killed by the test
}

// helperWrite creates name and writes to it until killed.
func helperWrite(name string) int {
	f, err := os.Create(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// helperCmd returns a command that runs this test binary as helper kind.
func helperCmd(kind string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+kind)
	return cmd
}

// writeFile creates name under root with data, making parent directories.
func writeFile(t *testing.T, root, name string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
