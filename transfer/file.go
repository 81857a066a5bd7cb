package transfer

import (
	"context"
	"fmt"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// upToDate reports whether a destination entry st already has e's data: the
// quick check (type, size, mtime), with no second name on its inode that
// the source doesn't have.
func upToDate(e *partition.Entry, st *unix.Stat_t, window int64) bool {
	return st.Mode&unix.S_IFMT == e.Mode&unix.S_IFMT && st.Size == e.Size &&
		sameTime(st.Mtim.Nano(), e.Mtime, window) && (st.Nlink == 1 || e.Nlink > 1)
}

// file makes the destination's regular file name in dfd match e.
func (w *worker) file(ctx context.Context, e *partition.Entry, dfd int, src srcDir, name string, r *fileReport) error {
	c := w.c
	st, exists, err := lstatAt(dfd, name)
	if err != nil {
		return err
	}
	if len(c.refs) > 0 { // Options.LinkDest: see linkdest.go
		if done, err := w.linkDest(ctx, e, dfd, src, name, &st, exists, r); done {
			return err
		}
	}
	a := at{fd: -1, dirfd: dfd, name: name}
	v := w.judge(e, &st, exists) // the quick check, or a checksum to come
	if v == contentEqual && c.settled(e, &st) {
		return w.metaOnly(e, nil, a, &st, r, true)
	}
	x, err := w.sourceXattrs(e, src, name)
	if err != nil {
		return sourceErr(e.Path, err)
	}
	r.x, r.xknown = x, true
	if v == contentHash {
		if v, err = w.hashVerdict(ctx, e, src, dfd, name); err != nil {
			return err
		}
	}
	if v == contentEqual {
		return w.metaOnly(e, x, a, &st, r, false)
	}
	r.o = kpi.Created
	if exists {
		r.o = kpi.Updated
	}
	c.itemize(itemFor(r.o, e, &st, exists), e, e.Path)
	if c.opt.DryRun {
		return nil
	}
	sfd, err := src.fd()
	if err != nil {
		return sourceErr(e.Path, err)
	}
	if canCloneDelta(e, &st, exists, &c.opt, c.cloning()) {
		if done, err := w.cloneDelta(ctx, e, x, dfd, sfd, name, &st, r); done || err != nil {
			return err
		}
	}
	if canInPlace(e, &st, exists, &c.opt) {
		if done, err := w.delta(ctx, e, x, dfd, sfd, name, &st, r); done || err != nil {
			return err
		}
	}
	return w.copyAfresh(ctx, e, x, dfd, sfd, name, &st, exists, r)
}

// copyAfresh copies e whole into a new inode: in pieces, several at once,
// if it is huge (copyHuge), else in one stream (copyFile).
func (w *worker) copyAfresh(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, old *unix.Stat_t, exists bool, r *fileReport) error {
	if e.Size >= w.c.opt.HugeMin {
		return w.copyHuge(ctx, e, x, dfd, sfd, name, old, exists, r)
	}
	return w.copyFile(ctx, e, x, dfd, sfd, name, old, exists, r)
}

// metaOnly brings an entry whose content is up to date to e's metadata.
// For a settled entry (see Copier.settled) x is nil and the destination's
// xattrs are not read: both are taken as equal.
func (w *worker) metaOnly(e *partition.Entry, x xattrs, a at, st *unix.Stat_t, r *fileReport, settled bool) error {
	c := w.c
	var have xattrs
	if !settled {
		var err error
		if have, err = c.dstXattrs(a); err != nil {
			return err
		}
	}
	wt := w.c.wantOf(e, x)
	wt.keepXattrs = settled
	d := diffMeta(st, have, wt, c.feat, &c.opt)
	if !d.any() {
		return nil
	}
	r.o = kpi.MetadataOnly
	c.itemize(itemMeta(d), e, e.Path)
	if c.opt.DryRun {
		return nil
	}
	// Without privilege, setting or removing a user.* xattr needs write
	// permission on the file: lend the owner w; setMeta's chmod, which
	// follows the xattrs, sets the mode back.
	if d.xattrs && !c.feat.owner && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o200 == 0 {
		if err := chmodAt(a.dirfd, a.name, st.Mode&0o7777|0o200); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	return c.setMeta(a, have, wt, d)
}

// copyFile writes the source file into a temporary file beside the
// destination, gives it its metadata, and renames it into place: the name
// holds the old file or the new one, never a part.
func (w *worker) copyFile(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, old *unix.Stat_t, exists bool, r *fileReport) error {
	c := w.c
	src, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return sourceErr(e.Path, err)
	}
	defer unix.Close(src)
	var before unix.Stat_t
	if err := unix.Fstat(src, &before); err != nil {
		return sourceErr(e.Path, err)
	}
	if before.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s: %w", e.Path, errChanged) // replaced since the crawl
	}
	tmp := tempName()
	tfd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	c.temps.add(dfd, tmp)
	defer c.temps.remove(dfd, tmp)
	done := false
	defer func() {
		if !done {
			unix.Close(tfd)
			unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	var h *xxh3.Hasher128
	if c.opt.Hash {
		h = xxh3.New128()
	}
	if err := c.copyData(ctx, src, tfd, 0, before.Size, r.f, h); err != nil {
		return err
	}
	if h != nil {
		r.sum, r.hashed = h.Sum128().Bytes(), true
	}
	if err := unix.Ftruncate(tfd, before.Size); err != nil {
		return err
	}
	if err := w.sealTemp(e, x, src, tfd, &before, r); err != nil {
		return err
	}
	done = true
	if err := unix.Close(tfd); err != nil { // NFS reports ENOSPC here
		unix.Unlinkat(dfd, tmp, 0)
		return err
	}
	return w.replace(dfd, tmp, name, e.Path, old, exists)
}

// sealTemp ends the copy of e into the temporary file tfd: it checks that
// the source src did not change since before (else errChanged), gives the
// file the metadata of the source as read, not as crawled, and flushes it
// with Options.Fsync.
func (w *worker) sealTemp(e *partition.Entry, x xattrs, src, tfd int, before *unix.Stat_t, r *fileReport) error {
	var after unix.Stat_t
	if err := unix.Fstat(src, &after); err != nil {
		return sourceErr(e.Path, err)
	}
	if after.Size != before.Size || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		return fmt.Errorf("%s: %w", e.Path, errChanged)
	}
	now := *e
	now.Mode, now.Size, now.UID, now.GID, now.Mtime = after.Mode, after.Size, after.Uid, after.Gid, after.Mtim.Nano()
	if err := w.newMeta(at{fd: tfd}, &now, x); err != nil {
		return err
	}
	r.e = &now
	if w.c.opt.Fsync {
		return unix.Fsync(tfd)
	}
	return nil
}

// newMeta gives a new entry (a temporary file, link or node, at a) the
// metadata of e: all of it, except an owner that already matches.
func (w *worker) newMeta(a at, e *partition.Entry, x xattrs) error {
	var st unix.Stat_t
	var err error
	if a.fd >= 0 {
		err = unix.Fstat(a.fd, &st)
	} else {
		err = unix.Fstatat(a.dirfd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return err
	}
	var have xattrs // a new file may have inherited a default ACL
	if e.Mode&unix.S_IFMT != unix.S_IFLNK {
		if have, err = w.c.dstXattrs(a); err != nil {
			return err
		}
	}
	d := diffMeta(&st, have, w.c.wantOf(e, x), w.c.feat, &w.c.opt)
	d.mode, d.mtime = e.Mode&unix.S_IFMT != unix.S_IFLNK, true
	return w.c.setMeta(a, have, w.c.wantOf(e, x), d)
}

// replace renames the temporary entry tmp over name in dfd. A directory in
// the way is removed first: rename can't replace one with a file.
func (w *worker) replace(dfd int, tmp, name, rel string, old *unix.Stat_t, exists bool) error {
	if exists && old.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := w.c.remove(dfd, rel, name); err != nil {
			unix.Unlinkat(dfd, tmp, 0)
			return err
		}
	}
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return err
	}
	w.c.dirs.dirty(parentOf(rel))
	return nil
}
