package latencyfs

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNoXattrs checks that with NoXattrs every xattr call fails with
// EOPNOTSUPP, as on EFS, and that the kernel stops asking: each of the
// four calls reaches the server at most once however often it is made.
func TestNoXattrs(t *testing.T) {
	backing := t.TempDir()
	writeFile(t, backing, "f", []byte("x"))
	writeFile(t, backing, "d/g", nil)
	// The backing file has an xattr: the mount must still show none.
	if err := unix.Lsetxattr(filepath.Join(backing, "f"), "user.k", []byte("v"), 0); err != nil {
		t.Skipf("backing file system has no user xattrs: %v", err)
	}
	m := Start(t, backing, Options{Delay: time.Millisecond, NoXattrs: true})
	buf := make([]byte, 256)
	calls := []struct {
		name string
		call func(p string) error
	}{
		{"listxattr", func(p string) error { _, err := unix.Llistxattr(p, buf); return err }},
		{"getxattr", func(p string) error { _, err := unix.Lgetxattr(p, "user.k", buf); return err }},
		{"setxattr", func(p string) error { return unix.Lsetxattr(p, "user.n", []byte("1"), 0) }},
		{"removexattr", func(p string) error { return unix.Lremovexattr(p, "user.k") }},
	}
	for round := range 3 {
		for _, p := range []string{"f", "d", "d/g", "."} {
			for _, c := range calls {
				if err := c.call(filepath.Join(m.Dir(), p)); !errors.Is(err, unix.EOPNOTSUPP) {
					t.Errorf("round %d: %s %s: %v, want EOPNOTSUPP", round, c.name, p, err)
				}
			}
		}
	}
	c, err := m.Counts()
	must(t, err)
	t.Logf("calls that reached the server: %v", c.Ops)
	for _, op := range []string{"listxattr", "getxattr", "setxattr", "removexattr"} {
		if n := c.Ops[op]; n > 1 {
			t.Errorf("%s reached the server %d times; want at most once (the kernel caches ENOSYS)", op, n)
		}
	}
	wantXattr(t, filepath.Join(backing, "f"), "user.k", []byte("v"))
}
