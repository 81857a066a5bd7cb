package partition

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testenv"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// childEnv names the tree that the test binary, run again as nobody by
// TestUnreadableDirectory, crawls.
const childEnv = "EFSYNC_PARTITION_UNREADABLE"

// TestUnreadableDirectory crawls a tree with a directory of mode 000 as a
// user that can't read it. Run as root, it runs itself again as nobody.
func TestUnreadableDirectory(t *testing.T) {
	root := os.Getenv(childEnv)
	if root == "" {
		root = declared(t, errTree...)
		if err := os.Chmod(filepath.Join(root, "a"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "a"), 0o755) })
		if testenv.Root() {
			runAsNobody(t, root)
			return
		}
	}
	rec := &recorder{}
	chunks := walk(t, root, Options{Walkers: 4, Reporter: rec})
	paths, failed := listing(chunks)
	if d := cmp.Diff([]string{".", "a", "b", "b/4", "c"}, paths); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a"}, failed); d != "" || !errors.Is(rec.errors["a"], unix.EACCES) {
		t.Errorf("error entries (-want +got):\n%s\nreported: %v", d, rec.errors)
	}
}

// runAsNobody runs this test in a copy of the test binary as user nobody,
// on root, which it makes readable for nobody.
func runAsNobody(t *testing.T, root string) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "partition-child-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	child := filepath.Join(dir, "partition.test")
	for _, step := range []error{os.Chmod(dir, 0o755), copyFile(bin, child), os.Chmod(filepath.Dir(root), 0o755)} {
		if step != nil {
			t.Fatal(step)
		}
	}
	cmd := exec.Command(child, "-test.run=^TestUnreadableDirectory$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+root, "HOME=/", "TMPDIR=/tmp")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}

// copyFile copies src to a new executable file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// TestReaddirFaultsThroughFUSE injects errors into the directory reads of
// a latencyfs mount: the kernel, not a wrapper, returns them.
func TestReaddirFaultsThroughFUSE(t *testing.T) {
	tests := []struct {
		name       string
		fault      latencyfs.Fault
		wantFailed []string
		wantErrno  unix.Errno
	}{
		{"EIO always", latencyfs.Fault{Op: "readdir", Path: "a", Errno: unix.EIO}, []string{"a"}, unix.EIO},
		{"EIO twice", latencyfs.Fault{Op: "readdir", Path: "a", Errno: unix.EIO, Times: 2}, nil, 0},
		{"opendir EIO once", latencyfs.Fault{Op: "opendir", Path: "b", Errno: unix.EIO, Times: 1}, nil, 0},
		{"opendir EACCES", latencyfs.Fault{Op: "opendir", Path: "a", Errno: unix.EACCES}, []string{"a"}, unix.EACCES},
	}
	backing := declared(t, errTree...)
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	all := []string{".", "a", "a/1", "a/2", "a/3", "a/sub", "a/sub/x", "b", "b/4", "c"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := m.SetFaults([]latencyfs.Fault{tt.fault}); err != nil {
				t.Fatal(err)
			}
			defer m.SetFaults(nil)
			chunks := walk(t, m.Dir(), Options{Walkers: 4})
			paths, failed := listing(chunks)
			want := all
			if tt.wantFailed != nil {
				want = slices.DeleteFunc(slices.Clone(all), func(p string) bool { return len(p) > 2 && p[:2] == "a/" })
			}
			if d := cmp.Diff(want, paths); d != "" {
				t.Errorf("paths (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantFailed, failed); d != "" {
				t.Errorf("error entries (-want +got):\n%s", d)
			}
			for _, e := range entries(chunks) {
				if e.Err != nil && !errors.Is(e.Err, tt.wantErrno) {
					t.Errorf("%q: %v, want %v", e.Path, e.Err, tt.wantErrno)
				}
			}
		})
	}
}
