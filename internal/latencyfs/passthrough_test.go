package latencyfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestPassThrough checks that what a copier does through the mount lands
// in the backing directory exactly: each case acts on the mount, then
// checks the backing directory.
func TestPassThrough(t *testing.T) {
	testenv.NeedRoot(t) // chown, and ACLs naming other users
	backing := t.TempDir()
	writeFile(t, backing, "f", []byte("data"))
	writeFile(t, backing, "old", []byte("old"))
	m := Start(t, backing, Options{Delay: 50 * time.Microsecond})
	mnt := m.Dir()
	in := func(root, name string) string { return filepath.Join(root, name) }

	tests := []struct {
		name  string
		do    func(mnt string) error
		check func(t *testing.T, backing string)
	}{
		{
			name: "user xattr",
			do: func(mnt string) error {
				if err := unix.Lsetxattr(in(mnt, "f"), "user.k", []byte("v"), 0); err != nil {
					return err
				}
				return listHas(in(mnt, "f"), "user.k")
			},
			check: func(t *testing.T, backing string) { wantXattr(t, in(backing, "f"), "user.k", []byte("v")) },
		},
		{
			name: "remove xattr",
			do: func(mnt string) error {
				if err := unix.Lsetxattr(in(mnt, "f"), "user.gone", []byte("x"), 0); err != nil {
					return err
				}
				return unix.Lremovexattr(in(mnt, "f"), "user.gone")
			},
			check: func(t *testing.T, backing string) {
				if _, err := unix.Lgetxattr(in(backing, "f"), "user.gone", nil); err != unix.ENODATA {
					t.Errorf("user.gone: %v, want ENODATA", err)
				}
			},
		},
		{
			name: "posix acl",
			do: func(mnt string) error {
				return unix.Lsetxattr(in(mnt, "f"), "system.posix_acl_access", aclUser1234(), 0)
			},
			check: func(t *testing.T, backing string) {
				wantXattr(t, in(backing, "f"), "system.posix_acl_access", aclUser1234())
				wantXattr(t, in(mnt, "f"), "system.posix_acl_access", aclUser1234())
			},
		},
		{
			name: "hard link",
			do:   func(mnt string) error { return os.Link(in(mnt, "f"), in(mnt, "h")) },
			check: func(t *testing.T, backing string) {
				a, b := lstat(t, in(backing, "f")), lstat(t, in(backing, "h"))
				if a.Ino != b.Ino || a.Nlink != 2 {
					t.Errorf("inodes %d, %d, nlink %d; want one inode, 2 links", a.Ino, b.Ino, a.Nlink)
				}
			},
		},
		{
			name: "symlink",
			do:   func(mnt string) error { return os.Symlink("no/such/target", in(mnt, "s")) },
			check: func(t *testing.T, backing string) {
				for _, root := range []string{backing, mnt} {
					if got, err := os.Readlink(in(root, "s")); err != nil || got != "no/such/target" {
						t.Errorf("readlink in %s: %q, %v", root, got, err)
					}
				}
			},
		},
		{
			name: "fifo",
			do:   func(mnt string) error { return unix.Mkfifo(in(mnt, "p"), 0o640) },
			check: func(t *testing.T, backing string) {
				if st := lstat(t, in(backing, "p")); st.Mode != syscall.S_IFIFO|0o640 {
					t.Errorf("mode %o, want fifo 0640", st.Mode)
				}
			},
		},
		{
			name: "rename",
			do:   func(mnt string) error { return os.Rename(in(mnt, "old"), in(mnt, "new")) },
			check: func(t *testing.T, backing string) {
				if got, err := os.ReadFile(in(backing, "new")); err != nil || string(got) != "old" {
					t.Errorf("new: %q, %v", got, err)
				}
			},
		},
		{
			name: "chmod, chown, utimensat with ns",
			do: func(mnt string) error {
				writeFile(t, backing, "meta", nil)
				p := in(mnt, "meta")
				if err := os.Lchown(p, 1234, 5678); err != nil {
					return err
				}
				// After chown, which clears set-id bits.
				if err := syscall.Chmod(p, 0o2751); err != nil { // os.Chmod would drop 0o2000
					return err
				}
				ts := []unix.Timespec{{Sec: 1_000_000_000, Nsec: 123_456_789}, {Sec: 1_500_000_000, Nsec: 987_654_321}}
				return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
			},
			check: func(t *testing.T, backing string) {
				st := lstat(t, in(backing, "meta"))
				if st.Mode&0o7777 != 0o2751 || st.Uid != 1234 || st.Gid != 5678 {
					t.Errorf("mode %o uid %d gid %d, want 2751 1234 5678", st.Mode&0o7777, st.Uid, st.Gid)
				}
				if st.Atim != (syscall.Timespec{Sec: 1_000_000_000, Nsec: 123_456_789}) ||
					st.Mtim != (syscall.Timespec{Sec: 1_500_000_000, Nsec: 987_654_321}) {
					t.Errorf("atime %v mtime %v, want the ns set", st.Atim, st.Mtim)
				}
			},
		},
		{
			name: "symlink times",
			do: func(mnt string) error {
				ts := []unix.Timespec{{Sec: 2_000_000_000, Nsec: 1}, {Sec: 2_000_000_000, Nsec: 2}}
				return unix.UtimesNanoAt(unix.AT_FDCWD, in(mnt, "s"), ts, unix.AT_SYMLINK_NOFOLLOW)
			},
			check: func(t *testing.T, backing string) {
				if st := lstat(t, in(backing, "s")); st.Mtim != (syscall.Timespec{Sec: 2_000_000_000, Nsec: 2}) {
					t.Errorf("symlink mtime %v", st.Mtim)
				}
			},
		},
		{
			name: "mode 0000 shows as is",
			do: func(mnt string) error {
				writeFile(t, backing, "zero", nil)
				return os.Chmod(in(mnt, "zero"), 0)
			},
			check: func(t *testing.T, backing string) {
				for _, root := range []string{backing, mnt} {
					if st := lstat(t, in(root, "zero")); st.Mode&0o7777 != 0 {
						t.Errorf("in %s: mode %o, want 0", root, st.Mode&0o7777)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(mnt); err != nil {
				t.Fatal(err)
			}
			tt.check(t, backing)
		})
	}
}

// aclUser1234 is an access ACL in the kernel's xattr format: u::rw-,
// u:1234:r--, g::r--, m::r--, o::---.
func aclUser1234() []byte {
	const undefined = 0xffffffff
	entries := []struct {
		tag, perm uint16
		id        uint32
	}{{0x01, 6, undefined}, {0x02, 4, 1234}, {0x04, 4, undefined}, {0x10, 4, undefined}, {0x20, 0, undefined}}
	b := binary.LittleEndian.AppendUint32(nil, 2) // POSIX_ACL_XATTR_VERSION
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

func wantXattr(t *testing.T, name, attr string, want []byte) {
	t.Helper()
	buf := make([]byte, 1024)
	n, err := unix.Lgetxattr(name, attr, buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Errorf("%s %s = %x, %v; want %x", name, attr, buf[:max(n, 0)], err, want)
	}
}

// listHas returns an error unless attr is among name's xattrs.
func listHas(name, attr string) error {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(name, buf)
	if err != nil {
		return err
	}
	for _, a := range strings.Split(string(buf[:n]), "\x00") {
		if a == attr {
			return nil
		}
	}
	return &os.PathError{Op: "listxattr " + attr, Path: name, Err: unix.ENODATA}
}

func lstat(t *testing.T, name string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st
}
