package transfer

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futimens sets the times of the open file fd: utimensat with a NULL path,
// which x/sys/unix does not offer.
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// chmodAt sets the mode of name in dirfd without following a symlink:
// fchmodat2 where the kernel has it (6.6+), else through an O_PATH fd of
// the entry itself, as glibc does.
func chmodAt(dirfd int, name string, mode uint32) error {
	err := unix.Fchmodat(dirfd, name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.EOPNOTSUPP // symlinks have no mode of their own
	}
	return unix.Chmod(at{fd: fd}.proc(), mode)
}

// mtimeOnly returns the pair utimensat takes that sets the modification
// time and leaves the access time alone.
func mtimeOnly(mtime int64) *[2]unix.Timespec {
	return &[2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime)}
}
