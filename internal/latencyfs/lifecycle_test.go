package latencyfs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClose checks that Close unmounts and stops the child, and that a
// second Close is harmless.
func TestClose(t *testing.T) {
	m := Start(t, t.TempDir(), Options{})
	assertMounted(t, m.Dir(), true)
	must(t, m.Close())
	assertMounted(t, m.Dir(), false)
	select {
	case <-m.exited:
	default:
		t.Errorf("child still running after Close")
	}
	must(t, m.Close())
}

// TestSIGTERM checks that the child unmounts and exits cleanly on SIGTERM.
func TestSIGTERM(t *testing.T) {
	m := Start(t, t.TempDir(), Options{})
	must(t, m.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("child did not exit on SIGTERM")
	}
	if m.waitErr != nil {
		t.Errorf("child: %v\n%s", m.waitErr, m.Output())
	}
	assertMounted(t, m.Dir(), false)
}

// TestParentKilled checks that when the process that started latencyfs
// dies without calling Close (SIGKILL, as a test timeout may), the child
// unmounts and exits by itself.
func TestParentKilled(t *testing.T) {
	m := Start(t, t.TempDir(), Options{}) // skips without FUSE, and builds the binary
	bin := m.cmd.Path
	dir := t.TempDir()

	parent := helperCmd("mount", t.TempDir(), dir)
	parent.Env = append(parent.Env, BinEnv+"="+bin)
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	must(t, err)
	must(t, parent.Start())
	defer parent.Process.Kill() // in case the test fails before the kill below
	line, err := bufio.NewReader(out).ReadString('\n')
	var child int
	if _, err2 := fmt.Sscanf(line, "pid %d", &child); err != nil || err2 != nil {
		t.Fatalf("helper said %q, %v", line, err)
	}
	assertMounted(t, dir, true)

	must(t, parent.Process.Kill())
	parent.Wait() // killed: the error says so
	waitFor(t, 10*time.Second, "the child to unmount", func() bool {
		ok, err := mounted(dir)
		return err == nil && !ok
	})
	waitFor(t, 10*time.Second, "the child to exit", func() bool { return exited(child) })
}

// exited reports whether pid is gone or a zombie: the orphaned child is
// reaped by whoever adopted it, maybe never in a container.
func exited(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(s[i+1:], " Z")
}

func assertMounted(t *testing.T, dir string, want bool) {
	t.Helper()
	got, err := mounted(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s mounted: %v, want %v", dir, got, want)
	}
}

// TestStartProcessFails checks that a child that cannot mount is reported
// with its stderr and leaves nothing behind.
func TestStartProcessFails(t *testing.T) {
	m := Start(t, t.TempDir(), Options{}) // skips without FUSE, and builds the binary
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := StartProcess(ctx, "/nonexistent/backing", t.TempDir(), Options{Binary: m.cmd.Path})
	if err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("StartProcess with a missing backing dir: %v, want an error naming it", err)
	}
	if testing.Verbose() {
		t.Log(err)
	}
}
