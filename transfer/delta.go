package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// canInPlace reports whether e's changed content may be rewritten in its
// destination copy st (see ContentOptions.InPlace): a pure function. Only
// an inode with one link qualifies: another name on it, such as an older
// snapshot's, must keep its content.
func canInPlace(e *partition.Entry, st *unix.Stat_t, exists bool, o *Options) bool {
	return o.InPlace && !o.DryRun && exists && !linkDestSet(o) &&
		st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink == 1 && e.Size >= o.DeltaMin
}

// linkDestSet reports whether the run links unchanged files from reference
// trees, whose inodes must never be written: then nothing is in place.
func linkDestSet(o *Options) bool {
	return len(o.LinkDest) > 0
}

// delta rewrites the destination file name in dfd in place from the
// source's, only the blocks that differ, then sets its size and metadata:
// like rsync --inplace --no-whole-file, without the rolling checksum,
// since both sides are local reads here. It returns false, having written
// nothing, when the file must be copied atomically instead: the
// destination can't be opened for writing, is no longer the inode old, or
// Options.Dirty refused it.
func (w *worker) delta(ctx context.Context, e *partition.Entry, x xattrs, dfd, sfd int, name string, old *unix.Stat_t, r *fileReport) (bool, error) {
	c := w.c
	src, err := openRegular(sfd, name, unix.O_RDONLY)
	if errors.Is(err, errNotRegular) {
		return false, fmt.Errorf("%s: %w", e.Path, errChanged) // replaced since the crawl
	}
	if err != nil {
		return false, sourceErr(e.Path, err)
	}
	defer unix.Close(src)
	var before unix.Stat_t
	if err := unix.Fstat(src, &before); err != nil {
		return false, sourceErr(e.Path, err)
	}
	dst, err := openRegular(dfd, name, unix.O_RDWR)
	if err != nil {
		return false, nil // a read-only mode, say: a new inode needs no write permission
	}
	closed := false
	defer func() {
		if !closed {
			unix.Close(dst)
		}
	}()
	var st unix.Stat_t
	if err := unix.Fstat(dst, &st); err != nil {
		return false, err
	}
	if st.Dev != old.Dev || st.Ino != old.Ino || st.Nlink != 1 {
		return false, nil // changed since the lstat: judge the new one afresh by copying
	}
	// Marked before anything is read, so that a refusal leaves nothing
	// counted twice by the copy that follows.
	if c.opt.Dirty != nil {
		if err := c.opt.Dirty(e.Path); err != nil {
			c.opt.Logger.Warn("not marked dirty: copying atomically", "path", e.Path, "err", err)
			return false, nil
		}
	}
	p := patcher{src: src, dst: dst, block: c.opt.DeltaBlock, f: r.f}
	if err := p.run(ctx, before.Size, st.Size); err != nil {
		return true, err
	}
	var after unix.Stat_t
	if err := unix.Fstat(src, &after); err != nil {
		return true, sourceErr(e.Path, err)
	}
	if after.Size != before.Size || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		return true, fmt.Errorf("%s: %w", e.Path, errChanged)
	}
	// The file as read, not as crawled, is what was copied.
	now := *e
	now.Mode, now.Size, now.UID, now.GID, now.Mtime = after.Mode, after.Size, after.Uid, after.Gid, after.Mtim.Nano()
	if err := w.newMeta(at{fd: dst}, &now, x); err != nil {
		return true, err
	}
	if c.opt.Fsync {
		if err := unix.Fsync(dst); err != nil {
			return true, err
		}
	}
	closed = true
	if err := unix.Close(dst); err != nil { // NFS reports ENOSPC here
		return true, err
	}
	if c.opt.Clean != nil {
		c.opt.Clean(e.Path)
	}
	return true, nil
}
