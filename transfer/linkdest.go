package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// linkDest handles the regular file e when Options.LinkDest names
// reference trees, and reports whether it did; if not, the usual path
// does. Like rsync --link-dest, only regular files are linked: a symlink
// or a device is as cheap to make as to link, and its metadata would have
// to be set on the shared inode.
//
//   - A destination copy of its own (one link) with e's data is left to
//     the usual path, which may fix its metadata in place.
//   - Else, if a reference holds e unchanged (unchanged), the name is
//     linked to it; the first tree given that does wins, as in rsync.
//   - Else a fresh copy: a clone of a basis where the destination clones
//     (cloneBasis), else a full one, in pieces if huge. A destination inode with more than
//     one link may be an older snapshot's: it is left alone if it is
//     unchanged, and otherwise replaced, never changed in place.
//
// A hard-link group goes through here for its anchor only (links.go):
// the other members are linked to the anchor, so that the group is linked
// from the reference as one inode when its anchor is unchanged there; its
// metadata is the inode's, the same for every member. A group whose
// destination inode needs a change is copied afresh and relinked.
func (w *worker) linkDest(ctx context.Context, e *partition.Entry, dfd int, src srcDir, name string, st *unix.Stat_t, exists bool, r *fileReport) (bool, error) {
	c := w.c
	shared := exists && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1
	if exists && !shared && upToDate(e, st, c.opt.MtimeWindow.Nanoseconds()) {
		return false, nil
	}
	x, err := w.sourceXattrs(e, src, name)
	if err != nil {
		return true, sourceErr(e.Path, err)
	}
	r.x, r.xknown = x, true
	if linked, err := w.linkRef(e, x, dfd, name, st, exists, r); linked || err != nil {
		return true, err
	}
	if shared {
		same, err := w.unchanged(e, x, at{fd: -1, dirfd: dfd, name: name}, st)
		if err != nil || same {
			return true, err
		}
	}
	r.o = kpi.Created
	if exists {
		r.o = kpi.Updated
	}
	c.itemize(itemFor(r.o, e, st, exists), e, e.Path)
	if c.opt.DryRun {
		return true, nil
	}
	sfd, err := src.fd()
	if err != nil {
		return true, sourceErr(e.Path, err)
	}
	if c.cloning() {
		if done, err := w.cloneBasis(ctx, e, x, dfd, sfd, name, st, exists, r); done || err != nil {
			return true, err
		}
	}
	return true, w.copyAfresh(ctx, e, x, dfd, sfd, name, st, exists, r)
}

// cloneBasis copies e as a clone of a basis (see cloneCopy), where one
// serves, and reports whether it did. The candidates, in rsync's order,
// are the destination's old copy, then each reference tree's; the first
// that has e's data by the quick check wins (its clone needs no data at
// all: a change of mode, owner or xattrs only), else the first regular
// file, patched. Neither basis inode is written: the clone is a new one.
func (w *worker) cloneBasis(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, st *unix.Stat_t, exists bool, r *fileReport) (bool, error) {
	c := w.c
	recheck := c.opt.Recheck != nil && c.opt.Recheck(e.Path)
	var best *basis
	consider := func(dirfd int) bool {
		b, ok := openBasis(dirfd, name)
		if !ok {
			return false
		}
		switch b.use = cloneUseFor(e, &b.st, &c.opt, recheck); {
		case b.use == cloneOnly:
			if best != nil {
				unix.Close(best.fd)
			}
			best = b
			return true
		case b.use == clonePatch && best == nil:
			best = b
		default:
			unix.Close(b.fd)
		}
		return false
	}
	found := exists && st.Mode&unix.S_IFMT == unix.S_IFREG && consider(dfd)
	dir, _ := split(e.Path)
	for i := 0; !found && i < len(c.refs); i++ {
		if rfd, err := w.refs[i].open(dir); err == nil && !c.refs[i].off.Load() {
			found = consider(rfd)
		}
	}
	if best == nil {
		return false, nil
	}
	defer unix.Close(best.fd)
	return w.cloneCopy(ctx, e, x, dfd, sfd, name, best, st, exists, r)
}

// linkRef makes name in dfd a link to the first reference tree's copy of
// e that is unchanged, and reports whether it did (in a dry run, whether
// it would). A destination already linked to it is left as it is. A
// reference directory that is missing or unreadable means no match: a
// copy is always right. EMLINK (the inode has as many links as its file
// system allows: 177 on EFS) and EXDEV move on to the next tree, then to
// a copy; neither is an error.
func (w *worker) linkRef(e *partition.Entry, x xattrs, dfd int, name string, st *unix.Stat_t, exists bool, r *fileReport) (bool, error) {
	c := w.c
	dir, _ := split(e.Path)
	for i, ref := range c.refs {
		if ref.off.Load() {
			continue
		}
		rfd, err := w.refs[i].open(dir)
		if err != nil {
			continue
		}
		fd, rst, ok := w.refEntry(e, x, rfd, name)
		if ok && !c.mayLink(e, &rst) {
			unix.Close(fd)
			ok = false
		}
		if !ok {
			continue
		}
		if exists && st.Dev == rst.Dev && st.Ino == rst.Ino {
			unix.Close(fd)
			return true, nil
		}
		if c.opt.DryRun {
			unix.Close(fd)
			r.o = kpi.HardLinked
			c.itemize(itemLink, e, e.Path)
			return true, nil
		}
		err = w.linkAt(fd, dfd, name, e.Path, st, exists)
		unix.Close(fd)
		switch {
		case err == nil:
			r.o = kpi.HardLinked
			c.itemize(itemLink, e, e.Path)
			return true, nil
		case errors.Is(err, unix.EMLINK):
			continue
		case errors.Is(err, unix.EXDEV):
			c.xdev(ref)
			continue
		}
		return false, err
	}
	return false, nil
}

// refEntry opens name in the reference directory rfd as an O_PATH fd, so
// that the inode checked is the inode linked, and reports whether it
// holds e unchanged. Any error means no match.
func (w *worker) refEntry(e *partition.Entry, x xattrs, rfd int, name string) (int, unix.Stat_t, bool) {
	var st unix.Stat_t
	fd, err := unix.Openat(rfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, st, false
	}
	if unix.Fstat(fd, &st) == nil {
		// Xattrs are read by name (an O_PATH fd can't read them): a
		// reference tree is a finished snapshot, not changing under us.
		if same, err := w.unchanged(e, x, at{fd: -1, dirfd: rfd, name: name}, &st); err == nil && same {
			return fd, st, true
		}
	}
	unix.Close(fd)
	return -1, st, false
}

// unchanged reports whether the regular file st (named by a, for its
// xattrs) holds e, whose xattrs are x, as a copy would: same size, mtime
// (to MtimeWindow), mode, owner where this process can set owners, and
// xattrs where they are compared at all (diffMeta's rules). Access times
// are not compared: a linked inode's are never set.
func (w *worker) unchanged(e *partition.Entry, x xattrs, a at, st *unix.Stat_t) (bool, error) {
	c := w.c
	if st.Mode&unix.S_IFMT != unix.S_IFREG || e.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != e.Size {
		return false, nil
	}
	wt := c.wantOf(e, x)
	wt.atime = 0
	wt.keepXattrs = true // the stat first: it needs no call
	if diffMeta(st, nil, wt, c.feat, &c.opt).any() {
		return false, nil
	}
	wt.keepXattrs = false
	have, err := c.dstXattrs(a)
	if err != nil {
		return false, err
	}
	return !diffMeta(st, have, wt, c.feat, &c.opt).any(), nil
}

// linkAt makes name in dfd a link to the inode open as the O_PATH fd fd,
// atomically: linkat to a temporary name beside it, then rename over the
// name, which holds the old entry or the link, never neither. The inode
// gets no other call: its metadata is an older snapshot's too.
func (w *worker) linkAt(fd, dfd int, name, rel string, st *unix.Stat_t, exists bool) error {
	// linkat through /proc/self/fd needs no privilege, where AT_EMPTY_PATH
	// needs CAP_DAC_READ_SEARCH.
	src := at{fd: fd}.proc()
	if !exists {
		// Nothing to replace (a new snapshot's tree): a link is atomic
		// by itself, and one call less per file than link and rename.
		err := unix.Linkat(unix.AT_FDCWD, src, dfd, name, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			w.c.dirs.dirty(parentOf(rel))
			return nil
		}
		if !errors.Is(err, unix.EEXIST) { // EEXIST: made meanwhile; replace it
			return fmt.Errorf("link: %w", err)
		}
	}
	tmp := tempName()
	if err := unix.Linkat(unix.AT_FDCWD, src, dfd, tmp, unix.AT_SYMLINK_FOLLOW); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return w.replace(dfd, tmp, name, rel, st, exists)
}
