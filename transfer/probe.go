package transfer

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// features are what the destination file system, and this process's
// privileges, allow. They are probed once per run, so that a missing one
// costs one warning, not one per file (EFS has no ACLs and no devices).
type features struct {
	owner   bool  // chown to any owner
	mknod   bool  // character and block devices
	user    bool  // user.* xattrs
	acl     bool  // system.posix_acl_* xattrs
	trusted bool  // trusted.* and security.* xattrs
	nsTimes bool  // mtimes to the nanosecond
	clone   bool  // FICLONE: a copy may share a basis file's blocks
	ctime   int64 // the probe file's ctime: the destination's clock, then
}

// noXattrs reports whether no xattr can be set here: then the copier
// need neither read nor compare any, on either side.
func (f *features) noXattrs() bool { return !f.user && !f.acl && !f.trusted }

// probeSource returns the file system of the source root fd, and whether
// that file system has no xattrs at all (listxattr fails with EOPNOTSUPP,
// as on EFS), so that its entries need no listxattr each. One call.
func probeSource(fd int) (dev uint64, none bool, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, false, err
	}
	_, err = unix.Flistxattr(fd, nil)
	return st.Dev, errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP), nil
}

// skipXattr reports whether the copier can't set the attribute name here,
// and so must neither copy nor compare it.
func (f *features) skipXattr(name string) bool {
	switch {
	case strings.HasPrefix(name, "user."):
		return !f.user
	case strings.HasPrefix(name, "system.posix_acl_"):
		return !f.acl
	case strings.HasPrefix(name, "trusted."), strings.HasPrefix(name, "security."):
		return !f.trusted
	}
	return true // system.* others, and unknown namespaces
}

// probe tries each feature on a temporary file in the directory dirfd, and
// logs one warning per missing one.
func probe(dirfd int, log *slog.Logger, dryRun bool) *features {
	root := os.Geteuid() == 0
	f := &features{owner: root, trusted: root}
	if dryRun {
		f.mknod, f.user, f.acl, f.nsTimes = root, true, true, true
		return f
	}
	// The probe leaves no trace: the directory gets its times back, so
	// that a run that ends early (a refused delete pass) changed nothing.
	var dirSt unix.Stat_t
	if unix.Fstat(dirfd, &dirSt) == nil {
		defer futimens(dirfd, &[2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, dirSt.Mtim})
	}
	name := tempName()
	fd, err := unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		log.Warn("cannot probe the destination", "err", err)
		return f
	}
	defer unix.Unlinkat(dirfd, name, 0)
	defer unix.Close(fd)
	var made unix.Stat_t
	if unix.Fstat(fd, &made) == nil {
		f.ctime = made.Ctim.Nano()
	}
	f.user = unix.Fsetxattr(fd, "user.efsync-probe", []byte("1"), 0) == nil
	acl := aclXattr(0o6, 0o4, 0o4)
	f.acl = unix.Fsetxattr(fd, "system.posix_acl_access", acl, 0) == nil
	if root {
		f.trusted = unix.Fsetxattr(fd, "trusted.efsync-probe", []byte("1"), 0) == nil
		dev := tempName()
		if err := unix.Mknodat(dirfd, dev, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err == nil {
			f.mknod = true
			unix.Unlinkat(dirfd, dev, 0)
		}
	}
	f.clone = probeClone(dirfd)
	const ns = 123456789
	if futimens(fd, mtimeOnly(time.Date(2020, 1, 1, 0, 0, 0, ns, time.UTC).UnixNano())) == nil {
		var st unix.Stat_t
		f.nsTimes = unix.Fstat(fd, &st) == nil && st.Mtim.Nsec == ns
	}
	for _, m := range []struct {
		ok   bool
		what string
	}{
		{f.owner, "owners (not root): files will be owned by this user"},
		{f.user, "user.* xattrs"},
		{f.acl, "POSIX ACLs"},
		{f.trusted, "trusted.* and security.* xattrs"},
		{f.mknod || !root, "device files: devices will be skipped"},
		{f.nsTimes, "nanosecond mtimes: compare with a MtimeWindow"},
	} {
		if !m.ok {
			log.Warn("destination lacks a feature; copies will lack it too", "feature", m.what)
		}
	}
	if !root {
		log.Warn("not running as root: owners, devices, trusted.* and security.* xattrs are not copied")
	}
	return f
}

// aclXattr returns the xattr form of the minimal POSIX ACL of a mode:
// user::, group:: and other:: entries with the given permissions.
func aclXattr(user, group, other uint16) []byte {
	b := []byte{2, 0, 0, 0}
	for _, e := range []struct{ tag, perm uint16 }{{1, user}, {4, group}, {0x20, other}} {
		b = append(b, byte(e.tag), byte(e.tag>>8), byte(e.perm), byte(e.perm>>8), 0xff, 0xff, 0xff, 0xff)
	}
	return b
}
