package transfer

import (
	"github.com/efsync/efsync/internal/sys"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// symlink makes name in dfd a symlink with e's target, verbatim and never
// followed.
func (w *worker) symlink(e *partition.Entry, dfd int, src srcDir, name string, r *fileReport) error {
	target := e.Target
	if target == "" {
		sfd, err := src.fd()
		if err != nil {
			return sourceErr(e.Path, err)
		}
		t, err := sys.ReadlinkAt(sfd, name)
		if err != nil {
			return sourceErr(e.Path, err)
		}
		target = t
	}
	st, exists, err := lstatAt(dfd, name)
	if err != nil {
		return err
	}
	if exists && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		if t, err := sys.ReadlinkAt(dfd, name); err == nil && t == target {
			return w.metaOnly(e, nil, at{fd: -1, dirfd: dfd, name: name}, &st, r, w.c.settled(e, &st))
		}
	}
	return w.create(e, nil, dfd, name, &st, exists, r, func(tmp string) error {
		return unix.Symlinkat(target, dfd, tmp)
	})
}

// special makes name in dfd a fifo, socket or device node like e.
func (w *worker) special(e *partition.Entry, dfd int, src srcDir, name string, r *fileReport) error {
	c := w.c
	typ := e.Mode & unix.S_IFMT
	if (typ == unix.S_IFCHR || typ == unix.S_IFBLK) && !c.feat.mknod {
		c.skipDevice(e.Path)
		r.o = kpi.Skipped
		return nil
	}
	st, exists, err := lstatAt(dfd, name)
	if err != nil {
		return err
	}
	same := exists && st.Mode&unix.S_IFMT == typ && st.Rdev == e.Rdev
	if same && c.settled(e, &st) {
		return w.metaOnly(e, nil, at{fd: -1, dirfd: dfd, name: name}, &st, r, true)
	}
	x, err := w.sourceXattrs(e, src, name)
	if err != nil {
		return sourceErr(e.Path, err)
	}
	r.x, r.xknown = x, true
	if same {
		return w.metaOnly(e, x, at{fd: -1, dirfd: dfd, name: name}, &st, r, false)
	}
	return w.create(e, x, dfd, name, &st, exists, r, func(tmp string) error {
		return unix.Mknodat(dfd, tmp, typ|0o600, int(e.Rdev))
	})
}

// create makes a new non-regular entry under a temporary name with make,
// gives it e's metadata and the source's xattrs x, and renames it over name.
func (w *worker) create(e *partition.Entry, x xattrs, dfd int, name string, old *unix.Stat_t, exists bool, r *fileReport, make func(tmp string) error) error {
	c := w.c
	r.o = kpi.Created
	if exists {
		r.o = kpi.Updated
	}
	c.itemize(itemFor(r.o, e, old, exists), e, e.Path)
	if c.opt.DryRun {
		return nil
	}
	tmp := tempName()
	if err := make(tmp); err != nil {
		return err
	}
	if err := w.newMeta(at{fd: -1, dirfd: dfd, name: tmp}, e, x); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return err
	}
	return w.replace(dfd, tmp, name, e.Path, old, exists)
}
