package transfer

import (
	"fmt"

	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// want is the metadata an entry must end with, taken from the source.
type want struct {
	mode   uint32 // type and permission bits, as st_mode
	uid    uint32
	gid    uint32
	mtime  int64 // ns
	atime  int64 // ns; 0 leaves the access time alone
	xattrs xattrs
	// keepXattrs says the xattrs were not read, the entry being settled
	// (Copier.settled): whatever the destination has is right.
	keepXattrs bool
}

func (c *Copier) wantOf(e *partition.Entry, x xattrs) want {
	w := want{mode: e.Mode, uid: e.UID, gid: e.GID, mtime: e.Mtime, xattrs: x}
	if c.opt.Atime {
		w.atime = e.Atime
	}
	return w
}

func (w want) isLink() bool { return w.mode&unix.S_IFMT == unix.S_IFLNK }

// metaDiff says which metadata of a destination entry differ from want.
type metaDiff struct {
	owner, xattrs, mode, mtime, atime bool
}

func (d metaDiff) any() bool { return d.owner || d.xattrs || d.mode || d.mtime || d.atime }

// diffMeta compares a destination entry's metadata with w: a pure function
// of what the copier can set here (f).
func diffMeta(st *unix.Stat_t, have xattrs, w want, f *features, o *Options) metaDiff {
	d := metaDiff{
		owner: f.owner && (st.Uid != w.uid || st.Gid != w.gid),
		mode:  !w.isLink() && st.Mode&0o7777 != w.mode&0o7777,
		mtime: !sameTime(st.Mtim.Nano(), w.mtime, o.MtimeWindow.Nanoseconds()),
		atime: w.atime != 0 && st.Atim.Nano() != w.atime,
	}
	if !o.NoXattrs && !w.keepXattrs {
		d.xattrs = !equalXattrs(have, w.xattrs, f.skipXattr)
	}
	return d
}

func sameTime(a, b, window int64) bool { return max(a-b, b-a) <= window }

// setMeta gives the entry a the metadata w where d says it differs, in the
// order that keeps each step: chown clears setuid and security.capability,
// and setting an ACL rewrites the group bits, so mode comes after both;
// every call may touch ctime but none the mtime, so times come last.
func (c *Copier) setMeta(a at, have xattrs, w want, d metaDiff) error {
	if d.owner {
		var err error
		if a.fd >= 0 {
			err = unix.Fchown(a.fd, int(w.uid), int(w.gid))
		} else {
			err = unix.Fchownat(a.dirfd, a.name, int(w.uid), int(w.gid), unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			return fmt.Errorf("chown: %w", err)
		}
		d.mode = !w.isLink() // chown may have cleared setuid
	}
	if d.xattrs {
		if err := writeXattrs(a, have, w.xattrs, c.feat.skipXattr); err != nil {
			return err
		}
		d.mode = !w.isLink()
	}
	if d.mode {
		var err error
		if a.fd >= 0 {
			err = unix.Fchmod(a.fd, w.mode&0o7777)
		} else {
			err = chmodAt(a.dirfd, a.name, w.mode&0o7777)
		}
		if err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if d.mtime || d.atime {
		ts := mtimeOnly(w.mtime)
		if w.atime != 0 {
			ts[0] = unix.NsecToTimespec(w.atime)
		}
		var err error
		if a.fd >= 0 {
			err = futimens(a.fd, ts)
		} else {
			err = unix.UtimesNanoAt(a.dirfd, a.name, ts[:], unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			return fmt.Errorf("utimes: %w", err)
		}
	}
	return nil
}
