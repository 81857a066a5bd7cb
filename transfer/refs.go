package transfer

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/efsync/efsync/partition"

	"golang.org/x/sys/unix"
)

// refTree is one of Options.LinkDest: an earlier snapshot whose unchanged
// files are linked into the destination instead of copied. It is only
// ever read and linked from; no call changes an inode in it.
type refTree struct {
	// config
	path string
	fd   int // its root, owned
	// state
	off atomic.Bool // linkat said EXDEV: links can't reach it
}

// openRefs opens the reference trees paths (absolute; a final symlink is
// followed, as for the roots: the user named it) into c.refs. A tree on
// another mount than the destination dst is left out with one warning:
// linkat can't cross mounts (EXDEV), so every lookup in it would be in
// vain, and its files are copied instead.
func (c *Copier) openRefs(paths []string, dst int) error {
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("link-dest %s: not an absolute path", p)
		}
		fd, err := unix.Open(p, dirFlags&^unix.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("open link-dest %s: %w", p, err)
		}
		if !sameMount(fd, dst) {
			unix.Close(fd)
			c.opt.Logger.Warn("link-dest tree is not on the destination's file system: hard links can't reach it; copying instead", "path", p)
			continue
		}
		c.refs = append(c.refs, &refTree{path: p, fd: fd})
	}
	return nil
}

// sameMount reports whether the directories a and b are on one mount, as
// linkat needs: by their mount ids (statx, Linux 5.8), else by their
// devices. Two mounts of one file system share a device but not a mount
// id, and linkat between them fails all the same.
func sameMount(a, b int) bool {
	var sa, sb unix.Statx_t
	const mask = unix.STATX_MNT_ID
	ea := unix.Statx(a, "", unix.AT_EMPTY_PATH, mask, &sa)
	eb := unix.Statx(b, "", unix.AT_EMPTY_PATH, mask, &sb)
	if ea != nil || eb != nil {
		return false
	}
	if sa.Mask&mask != 0 && sb.Mask&mask != 0 {
		return sa.Mnt_id == sb.Mnt_id
	}
	return sa.Dev_major == sb.Dev_major && sa.Dev_minor == sb.Dev_minor
}

// xdev marks ref unreachable by links after linkat failed with EXDEV
// (the mount probe missed it: a bind mount, say), warning once.
func (c *Copier) xdev(ref *refTree) {
	if ref.off.CompareAndSwap(false, true) {
		c.opt.Logger.Warn("cannot link from link-dest tree (EXDEV); copying instead", "path", ref.path)
	}
}

// refChains returns a worker's chains of directory fds into the reference
// trees, one per tree, in the order given.
func (c *Copier) refChains() []*chain {
	chains := make([]*chain, len(c.refs))
	for i, r := range c.refs {
		chains[i] = &chain{c: c, root: r.fd}
	}
	return chains
}

// closeRefs releases the reference trees' roots.
func (c *Copier) closeRefs() error {
	var errs []error
	for _, r := range c.refs {
		errs = append(errs, unix.Close(r.fd))
	}
	c.refs = nil
	return errors.Join(errs...)
}

// refClaims records, for Options.RefGroups, which source inode each
// shared reference inode was linked for in this run. It holds only
// members of the reference's hard-link groups, which are few.
type refClaims struct {
	mu sync.Mutex
	by map[[2]uint64]uint64 // reference dev and ino → source ino
}

// mayLink reports whether e may be a link to the reference file rst at
// its path: always, unless Options.RefGroups says that file has other
// names in its tree; then only for a source file in a hard-link group,
// and for the first source inode that asks.
func (c *Copier) mayLink(e *partition.Entry, rst *unix.Stat_t) bool {
	if c.opt.RefGroups == nil || !c.opt.RefGroups(e.Path) {
		return true
	}
	if e.Nlink < 2 {
		return false
	}
	cl := &c.claims
	cl.mu.Lock()
	defer cl.mu.Unlock()
	k := [2]uint64{uint64(rst.Dev), rst.Ino}
	if ino, ok := cl.by[k]; ok {
		return ino == e.Ino
	}
	if cl.by == nil {
		cl.by = map[[2]uint64]uint64{}
	}
	cl.by[k] = e.Ino
	return true
}
