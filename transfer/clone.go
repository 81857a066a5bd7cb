package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// Where the destination clones files (FICLONE: XFS, Btrfs), a changed
// file can be written as a clone of a basis it resembles, the old
// destination copy or a link-dest reference's, with only the blocks that
// differ written (cp --reflink, rsync's basis file). The clone is a new
// inode under a temporary name, renamed into place as any copy: the
// basis is only read, so this stays atomic, and may serve where writing
// in place may not (a basis with other links, an older snapshot's).

// cloneUse is what a clone of a basis file needs to become a copy of e.
type cloneUse int

const (
	cloneNot   cloneUse = iota // copy instead: e's data is small and differs
	cloneOnly                  // nothing: the basis already has e's data
	clonePatch                 // rewriting the blocks that differ
)

// cloneUseFor decides what a clone of the basis st needs to become e: a
// pure function. The data is taken as equal by the quick check (size and
// mtime), unless an option asks for content to be compared (Checksum,
// IgnoreTimes, or Recheck, here recheck); a patch reads both sides, so
// below DeltaMin a copy is as cheap.
func cloneUseFor(e *partition.Entry, st *unix.Stat_t, o *Options, recheck bool) cloneUse {
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return cloneNot
	case st.Size == e.Size && sameTime(st.Mtim.Nano(), e.Mtime, o.MtimeWindow.Nanoseconds()) &&
		!o.Checksum && !o.IgnoreTimes && !recheck:
		return cloneOnly
	case e.Size >= o.DeltaMin:
		return clonePatch
	}
	return cloneNot
}

// canCloneDelta reports whether e's changed content may be written into
// a clone of its destination copy st, where the destination clones
// (clone): a pure function. It asks what canInPlace asks, but for any
// link count and with link-dest too: the old inode is only read.
func canCloneDelta(e *partition.Entry, st *unix.Stat_t, exists bool, o *Options, clone bool) bool {
	return clone && o.InPlace && !o.DryRun && exists &&
		st.Mode&unix.S_IFMT == unix.S_IFREG && e.Size >= o.DeltaMin
}

// basis is an open regular file that a clone shares blocks with.
type basis struct {
	fd  int
	st  unix.Stat_t
	use cloneUse
}

// openBasis opens the regular file name in dirfd as a basis, read-only
// and without moving its access time where this process may ask that (a
// reference snapshot's inode is never changed). It returns false if the
// name is not a regular file or can't be opened: then there is no basis.
func openBasis(dirfd int, name string) (*basis, bool) {
	fd, err := openRegular(dirfd, name, unix.O_RDONLY|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) { // O_NOATIME needs ownership or CAP_FOWNER
		fd, err = openRegular(dirfd, name, unix.O_RDONLY)
	}
	if err != nil {
		return nil, false
	}
	b := &basis{fd: fd}
	if unix.Fstat(fd, &b.st) != nil {
		unix.Close(fd)
		return nil, false
	}
	return b, true
}

// cloneDelta writes e's changed content into a clone of its destination
// copy old, then renames the clone over it: the in-place delta's writes,
// the atomicity of a copy. It returns false, having changed nothing, when
// the destination can't be cloned (then the in-place delta or a copy
// follows): unreadable, no longer the inode old, or refused by FICLONE.
func (w *worker) cloneDelta(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, old *unix.Stat_t, r *fileReport) (bool, error) {
	b, ok := openBasis(dfd, name)
	if !ok {
		return false, nil
	}
	defer unix.Close(b.fd)
	if b.st.Dev != old.Dev || b.st.Ino != old.Ino {
		return false, nil // changed since the lstat: judge the new one afresh by copying
	}
	b.use = clonePatch
	return w.cloneCopy(ctx, e, x, dfd, sfd, name, b, old, true, r)
}

// cloneCopy makes name in dfd a copy of e from its source in sfd by way
// of a clone of b: FICLONE into a temporary file beside it, the blocks
// that differ rewritten by the patcher (unless b.use says none do), then
// metadata, the source-unchanged check and flush (sealTemp), and the
// rename, as copyFile. It returns false, having changed nothing, when
// FICLONE refuses b: then a copy follows.
func (w *worker) cloneCopy(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, b *basis, old *unix.Stat_t, exists bool, r *fileReport) (bool, error) {
	c := w.c
	src, err := openRegular(sfd, name, unix.O_RDONLY)
	if errors.Is(err, errNotRegular) {
		return true, fmt.Errorf("%s: %w", e.Path, errChanged) // replaced since the crawl
	}
	if err != nil {
		return true, sourceErr(e.Path, err)
	}
	defer unix.Close(src)
	var before unix.Stat_t
	if err := unix.Fstat(src, &before); err != nil {
		return true, sourceErr(e.Path, err)
	}
	tmp := tempName()
	tfd, err := unix.Openat(dfd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return true, err
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
	if ok, err := c.clone(tfd, b.fd); !ok || err != nil {
		c.dirs.dirty(parentOf(e.Path)) // the temporary name moved its mtime
		return err != nil, err
	}
	if err := w.patchClone(ctx, e, b, src, tfd, &before, r); err != nil {
		return true, err
	}
	if err := w.sealTemp(e, x, src, tfd, &before, r); err != nil {
		return true, err
	}
	done = true
	if err := unix.Close(tfd); err != nil { // NFS reports ENOSPC here
		unix.Unlinkat(dfd, tmp, 0)
		return true, err
	}
	return true, w.replace(dfd, tmp, name, e.Path, old, exists)
}

// patchClone rewrites the blocks of the clone tfd that differ from the
// source src (stat before). A clone that already has the data is left
// alone, if the source as opened is still the one crawled: one that
// changed since may have new data under new times.
func (w *worker) patchClone(ctx context.Context, e *partition.Entry, b *basis, src, tfd int, before *unix.Stat_t, r *fileReport) error {
	if b.use == cloneOnly && before.Size == e.Size && before.Mtim.Nano() == e.Mtime {
		return nil
	}
	var st unix.Stat_t // the clone's size: the basis's when it was cloned
	if err := unix.Fstat(tfd, &st); err != nil {
		return err
	}
	p := patcher{src: src, dst: tfd, block: w.c.opt.DeltaBlock, f: r.f}
	return p.run(ctx, before.Size, st.Size)
}
