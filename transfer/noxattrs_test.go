package transfer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

// TestNoXattrsFileSystem syncs between two trees of a file system without
// xattrs, as on EFS: the copy is exact, the copier knows from its probes
// that it need not ask for any entry's xattrs, and the file system is
// asked at most once (the kernel remembers the answer).
func TestNoXattrsFileSystem(t *testing.T) {
	backing, m := efsMount(t, latencyfs.Options{NoXattrs: true})
	o := testtree.Small(31)
	o.Xattrs, o.HugeSparse = false, false
	if err := os.Mkdir(filepath.Join(backing, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := testtree.Plan(o).Build(filepath.Join(backing, "src")); err != nil {
		t.Fatal(err)
	}
	src, dst := filepath.Join(m.Dir(), "src"), filepath.Join(m.Dir(), "dst")
	const workers = 4
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if err := m.Reset(); err != nil {
			t.Fatal(err)
		}
		_, failed, err := syncCtx(context.Background(), src, dst, Options{Delete: true, Workers: workers})
		if err != nil || len(failed) > 0 {
			t.Fatalf("round %d: %v, failed %q", round, err, failed)
		}
		c, err := m.Counts()
		if err != nil {
			t.Fatal(err)
		}
		// The kernel stops asking once the first ENOSYS is back; calls
		// already in flight then, one per worker at most, still arrive.
		if n := c.Ops["listxattr"] + c.Ops["getxattr"]; n > 2*workers {
			t.Errorf("round %d: %d listxattr and getxattr calls reached the file system; want at most %d, whatever the entries", round, n, 2*workers)
		}
	}
	exact(t, filepath.Join(backing, "src"), filepath.Join(backing, "dst"), compareOpts())
	c, err := New(context.Background(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.srcNoXattrs || !c.skipXattrs() {
		t.Errorf("source without xattrs %v, reads skipped %v; want both", c.srcNoXattrs, c.skipXattrs())
	}
}

// TestXattrReadRoutes reads xattrs by a name in a directory through
// listxattrat and getxattrat, and through /proc/self/fd as on kernels
// before 6.13: both give the entry's own xattrs, a symlink's never its
// target's.
func TestXattrReadRoutes(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	big := string(make([]byte, 3000)) // past the first buffers: ERANGE
	if err := unix.Lsetxattr(f, "user.big", []byte(big), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if err := unix.Lsetxattr(f, "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, dirFlags, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for _, viaProc := range []bool{false, true} {
		var xr xattrReader
		xr.noAt.Store(viaProc)
		for _, tc := range []struct {
			name string
			want xattrs
		}{
			{"f", xattrs{"user.big": big, "user.k": "v"}},
			{"l", nil},
		} {
			got, err := xr.read(at{fd: -1, dirfd: dfd, name: tc.name})
			if err != nil {
				t.Fatalf("proc %v, %s: %v", viaProc, tc.name, err)
			}
			if len(got) != len(tc.want) || got["user.k"] != tc.want["user.k"] || got["user.big"] != tc.want["user.big"] {
				t.Errorf("proc %v, %s: got %d xattrs, want %d", viaProc, tc.name, len(got), len(tc.want))
			}
		}
	}
}
