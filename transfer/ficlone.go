package transfer

import (
	"errors"

	"golang.org/x/sys/unix"
)

// probeClone reports whether files in the directory dirfd can be cloned
// (FICLONE): it clones an empty temporary file into another. EFS (NFS
// 4.1), ext4, tmpfs and FUSE can't; XFS with reflink=1 and Btrfs can.
// The files stay empty, so that the probe writes no data: a file system
// that says yes for them but no for data is caught by clone, once.
func probeClone(dirfd int) bool {
	a, b := tempName(), tempName()
	afd, err := unix.Openat(dirfd, a, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return false
	}
	defer unix.Unlinkat(dirfd, a, 0)
	defer unix.Close(afd)
	bfd, err := unix.Openat(dirfd, b, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return false
	}
	defer unix.Unlinkat(dirfd, b, 0)
	defer unix.Close(bfd)
	return unix.IoctlFileClone(bfd, afd) == nil
}

// cloning reports whether changed files are written as clones of a basis.
func (c *Copier) cloning() bool { return c.feat.clone && !c.noClone.Load() }

// clone makes the file dst share all of src's blocks (FICLONE), and
// reports whether it did. A file system that can't clone at all (the
// probe missed it: another mount under the destination, say) turns
// cloning off for the run, with one warning. EXDEV (src on another file
// system), EINVAL (XFS says so of a realtime or DAX file), or a refusal
// on permissions only make this file fall back to a copy. Other errors,
// ENOSPC say, are the copy's.
func (c *Copier) clone(dst, src int) (bool, error) {
	err := unix.IoctlFileClone(dst, src)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOTTY), errors.Is(err, unix.ENOSYS):
		if c.noClone.CompareAndSwap(false, true) {
			c.opt.Logger.Warn("cannot clone files here after all; copying them instead", "err", err)
		}
		return false, nil
	case errors.Is(err, unix.EXDEV), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EPERM),
		errors.Is(err, unix.EACCES), errors.Is(err, unix.ETXTBSY):
		return false, nil
	}
	return false, err
}
