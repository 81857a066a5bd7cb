package transfer

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// xattrReader reads xattrs by the cheapest call the kernel has. A Copier
// owns one; it is safe for concurrent use.
type xattrReader struct {
	// noAt is set once the kernel has said it lacks listxattrat and
	// getxattrat (Linux 6.13).
	noAt atomic.Bool
}

// list lists the names of a's xattrs into b (b empty: returns the
// size needed), never following a symlink. By a name in a directory it
// uses listxattrat, else listxattr on the /proc/self/fd path, which costs
// a procfs walk on top (three times the call).
func (r *xattrReader) list(a at, b []byte) (int, error) {
	if a.fd >= 0 {
		return unix.Flistxattr(a.fd, b)
	}
	if !r.noAt.Load() {
		n, err := xattrAt(unix.SYS_LISTXATTRAT, a, "", b)
		if !r.fallBack(err) {
			return n, err
		}
	}
	return unix.Llistxattr(a.proc(), b)
}

// getInto reads a's xattr name into b, as list does.
func (r *xattrReader) getInto(a at, name string, b []byte) (int, error) {
	if a.fd >= 0 {
		return unix.Fgetxattr(a.fd, name, b)
	}
	if !r.noAt.Load() {
		n, err := xattrAt(unix.SYS_GETXATTRAT, a, name, b)
		if !r.fallBack(err) {
			return n, err
		}
	}
	return unix.Lgetxattr(a.proc(), name, b)
}

// fallBack reports whether a *xattrat call failed for want of the call,
// not of the file: ENOSYS from an old kernel (remembered), or EPERM from
// a seccomp filter that does not know it (tried through /proc each time,
// which then fails for the file's own reasons, if any).
func (r *xattrReader) fallBack(err error) bool {
	if errors.Is(err, unix.ENOSYS) {
		r.noAt.Store(true)
		return true
	}
	return errors.Is(err, unix.EPERM)
}

// xattrArgs is the kernel's struct xattr_args, for getxattrat.
type xattrArgs struct {
	value uint64
	size  uint32
	flags uint32
}

// xattrAt calls listxattrat (name "") or getxattrat on a.name in a.dirfd
// with AT_SYMLINK_NOFOLLOW.
func xattrAt(trap uintptr, a at, name string, b []byte) (int, error) {
	path, err := unix.BytePtrFromString(a.name)
	if err != nil {
		return 0, err
	}
	var buf unsafe.Pointer
	if len(b) > 0 {
		buf = unsafe.Pointer(&b[0])
	}
	var r uintptr
	var e unix.Errno
	if trap == unix.SYS_LISTXATTRAT {
		r, _, e = unix.Syscall6(trap, uintptr(a.dirfd), uintptr(unsafe.Pointer(path)), unix.AT_SYMLINK_NOFOLLOW,
			uintptr(buf), uintptr(len(b)), 0)
	} else {
		attr, err := unix.BytePtrFromString(name)
		if err != nil {
			return 0, err
		}
		args := xattrArgs{value: uint64(uintptr(buf)), size: uint32(len(b))}
		r, _, e = unix.Syscall6(trap, uintptr(a.dirfd), uintptr(unsafe.Pointer(path)), unix.AT_SYMLINK_NOFOLLOW,
			uintptr(unsafe.Pointer(attr)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
	}
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
