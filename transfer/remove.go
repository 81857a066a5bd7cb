package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/efsync/efsync/kpi"
	"golang.org/x/sys/unix"
)

// remove deletes name, of any type, from the destination directory parent,
// whose path is dir: a directory with everything under it. Every call is
// relative to an fd opened with O_NOFOLLOW, so a symlink is removed, never
// followed.
func (c *Copier) remove(parent int, rel, name string) error {
	return c.removeEntry(parent, rel, name, false)
}

// removeNonDir removes the entry name in parent (rel), unless it is gone
// or a directory: a file or symlink found where the source has a
// directory, which another worker, opening the same path, may have
// replaced with that directory since, and filled: never to be removed.
func (c *Copier) removeNonDir(parent int, rel, name string) error {
	return c.removeEntry(parent, rel, name, true)
}

// removeEntry is remove, or removeNonDir if keepDir.
func (c *Copier) removeEntry(parent int, rel, name string, keepDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	if keepDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil
	}
	err := c.removeStat(parent, name, &st)
	if keepDir && errors.Is(err, unix.EISDIR) { // made a directory since the stat
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	c.dirs.dirty(parentOf(rel))
	return nil
}

func (c *Copier) removeStat(parent int, name string, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := unix.Unlinkat(parent, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
		c.opt.Reporter.Deleted(kpi.TypeOf(fileMode(st.Mode)))
		return nil
	}
	fd, err := unix.Openat(parent, name, dirFlags, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if st.Mode&0o700 != 0o700 && !c.feat.owner {
		if err := unix.Fchmod(fd, st.Mode&0o7777|0o700); err != nil {
			return err
		}
	}
	names, err := readNames(fd)
	if err != nil {
		return err
	}
	for _, n := range names {
		var cst unix.Stat_t
		if err := unix.Fstatat(fd, n, &cst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return err
		}
		if err := c.removeStat(fd, n, &cst); err != nil {
			return err
		}
	}
	if err := unix.Unlinkat(parent, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	c.opt.Reporter.Deleted(kpi.TypeDir)
	return nil
}

// readNames returns the names in the directory fd, without "." and "..",
// reading from where fd is: a fresh fd, or one sought back to 0.
func readNames(fd int) ([]string, error) {
	buf := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(buf)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, *buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent((*buf)[:n], -1, names)
	}
}

// direntBufs holds getdents buffers: one per directory read would be
// much garbage on a big tree.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// fileMode converts st_mode to an fs.FileMode's type bits, for kpi.TypeOf.
func fileMode(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}
