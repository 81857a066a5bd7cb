package efsync

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lockChildEnv names the repository that TestRepoLockChild locks, when the
// test binary runs as the child of TestRepoLockCrossProcess.
const lockChildEnv = "EFSYNC_TEST_LOCK_CHILD"

// TestRepoLockChild is the child process: it takes the lock, says so on
// stdout, and holds it until killed.
func TestRepoLockChild(t *testing.T) {
	repo := os.Getenv(lockChildEnv)
	if repo == "" {
		t.Skip("runs only as the child of TestRepoLockCrossProcess")
	}
	l, err := lockRepo(t.Context(), repo, testLockOptions("backup child", 0, nil))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	<-l.Lost()
	os.Exit(2)
}

// TestRepoLockCrossProcess shows that the lock excludes another process,
// and that it is broken once that process dies without unlocking.
func TestRepoLockCrossProcess(t *testing.T) {
	repo := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRepoLockChild$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q, %v", line, err)
	}

	_, err = lockRepo(t.Context(), repo, testLockOptions("backup parent", 0, nil))
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Owner != "backup child" {
		t.Fatalf("while the child holds it: got %v, want a *LockedError naming pid %d", err, cmd.Process.Pid)
	}

	// Killed, the child leaves its lock behind, and its heartbeat stops.
	cmd.Process.Kill()
	cmd.Wait()
	var log logBuffer
	start := time.Now()
	l := mustLock(t, repo, testLockOptions("backup parent", 20*testLease, &log))
	defer l.Unlock()
	if d := time.Since(start); d > 10*testLease {
		t.Errorf("broke the dead child's lock after %v", d)
	}
	if !strings.Contains(log.String(), "backup child") {
		t.Errorf("no warning naming the dead holder: %q", log.String())
	}
}

// TestRepoLockDeadHolder plants locks with an hour's lease and a fresh
// heartbeat, held by a process that has exited: one of this machine
// (its boot and pid namespace) is broken at once; one whose process id
// names another machine is not, whatever its pid means here.
func TestRepoLockDeadHolder(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	pid := gone.Process.Pid
	for _, bc := range []struct {
		name    string
		process string
		broken  bool
	}{
		{"this machine", processID(pid), true},
		{"another machine", "0f0f0f0f-0000-0000-0000-000000000000/pid:[1]/" + fmt.Sprint(pid), false},
	} {
		t.Run(bc.name, func(t *testing.T) {
			repo := t.TempDir()
			if err := os.Mkdir(repo+"/.efsync", 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := createLock(repo+"/.efsync/lock", lockFile{
				LockInfo:     LockInfo{Owner: "backup dead", Host: "h", PID: pid, Acquired: time.Now()},
				LeaseSeconds: time.Hour.Seconds(), Token: "dead", Process: bc.process})
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			o := testLockOptions("backup new", 0, nil)
			o.Lease = time.Hour
			l, err := lockRepo(t.Context(), repo, o)
			if bc.broken {
				if err != nil {
					t.Fatalf("the dead holder's lock was not broken: %v", err)
				}
				l.Unlock()
			} else if !errors.Is(err, ErrRepoLocked) {
				t.Fatalf("another machine's lock: %v, want ErrRepoLocked", err)
			}
		})
	}
}
