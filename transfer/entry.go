package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// entry makes the destination's entry e.Path match the source's e.
func (w *worker) entry(ctx context.Context, e *partition.Entry, r *fileReport) error {
	if err := checkRel(e.Path); err != nil {
		return fmt.Errorf("%q: %w", e.Path, err)
	}
	c := w.c
	if e.Err != nil {
		c.dirs.markIncomplete(e.Path)
		if e.Path != "." {
			dir, name := split(e.Path)
			c.dirs.name(dir, name) // keep what is there: nothing is known of it
		}
		return e.Err
	}
	if e.Path == "." {
		return w.dir(e, ".", c.dstRoot, srcDir{w: w}, ".", r)
	}
	dir, name := split(e.Path)
	if c.opt.Delete {
		c.dirs.name(dir, name)
	}
	dfd, err := w.dst.open(dir)
	if errors.Is(err, errAbsent) {
		c.itemize(itemNew, e, e.Path)
		r.o = kpi.Created
		return nil
	}
	if err != nil {
		return wrapErr("open destination directory of", e.Path, err)
	}
	src := srcDir{w: w, dir: dir}
	switch e.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return w.dir(e, e.Path, dfd, src, name, r)
	case unix.S_IFREG:
		return w.file(ctx, e, dfd, src, name, r)
	case unix.S_IFLNK:
		return w.symlink(e, dfd, src, name, r)
	default:
		return w.special(e, dfd, src, name, r)
	}
}

// srcDir is the source directory of an entry, opened only when it is
// needed: the crawl saw all that an unchanged entry needs of the source,
// and on EFS each directory opened is a round trip.
type srcDir struct {
	w   *worker
	dir string // "" for the root's own entry
}

// fd returns the directory's fd, valid until the worker's next source
// open.
func (s srcDir) fd() (int, error) { return s.w.src.open(s.dir) }

// sourceErr names a source-side failure; an entry that is gone is vanished.
func sourceErr(rel string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%s: %w", rel, errVanished)
	}
	return fmt.Errorf("read source %s: %w", rel, err)
}

// lstatAt stats name in the directory dirfd; ok is false when it is absent.
func lstatAt(dirfd int, name string) (st unix.Stat_t, ok bool, err error) {
	err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	return st, err == nil, err
}

// sourceXattrs returns the source entry e's xattrs, unless they are off,
// can't be set at the destination, or e's file system has none.
func (w *worker) sourceXattrs(e *partition.Entry, src srcDir, name string) (xattrs, error) {
	if w.c.skipXattrs() || (w.c.srcNoXattrs && e.Dev == w.c.srcDev) {
		return nil, nil
	}
	if src.dir == "" { // the root
		return w.c.xr.read(at{fd: w.c.srcRoot})
	}
	sfd, err := src.fd()
	if err != nil {
		return nil, err
	}
	return w.c.xr.read(at{fd: -1, dirfd: sfd, name: name})
}

// dir makes the directory rel exist; Finish sets its metadata once
// everything under it is written.
func (w *worker) dir(e *partition.Entry, rel string, dfd int, src srcDir, name string, r *fileReport) error {
	c := w.c
	// An existing directory is compared by its name in its parent, not
	// opened: its own fd is needed only for what is in it.
	a := at{fd: -1, dirfd: dfd, name: name}
	var st unix.Stat_t
	var err error
	exists := true
	if rel == "." {
		a = at{fd: dfd}
		err = unix.Fstat(dfd, &st)
	} else {
		st, exists, err = lstatAt(dfd, name)
		exists = exists && st.Mode&unix.S_IFMT == unix.S_IFDIR
	}
	if err != nil {
		return err
	}
	settled := exists && c.settled(e, &st)
	var x xattrs
	if !settled {
		if x, err = w.sourceXattrs(e, src, name); err != nil {
			return sourceErr(rel, err)
		}
		r.x, r.xknown = x, true
	}
	wt := w.c.wantOf(e, x)
	wt.keepXattrs = settled
	if !exists {
		r.o = kpi.Created
		c.itemize(itemNew, e, rel)
		if !c.opt.DryRun {
			if _, err := w.dst.open(rel); err != nil { // creates it, replacing a non-directory
				return err
			}
		}
		c.dirs.source(rel, wt, true)
		return nil
	}
	var have xattrs
	if !settled {
		if have, err = c.dstXattrs(a); err != nil {
			return err
		}
	}
	d := diffMeta(&st, have, wt, c.feat, &c.opt)
	c.dirs.source(rel, wt, d.any())
	if d.any() && c.opt.DryRun {
		c.itemizeDir(d, rel) // a real run sets it in Finish
	}
	return nil
}
