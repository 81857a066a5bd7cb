package partition

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Restat returns the entries at the slash paths rels under root, as a
// crawl would list them now: for replaying a chunk that a journal kept as
// a list of paths, since the source may have changed since. No symlink is
// followed below root. An entry that is gone (ENOENT, ENOTDIR) is left
// out and its path returned in vanished; any other error is kept in the
// entry's Err. err is only for a root that can't be opened.
func Restat(root string, rels []string, readLinks bool) (entries []Entry, vanished []string, err error) {
	fs := defaultFS()
	rfd, err := fs.openRoot(root)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", root, err)
	}
	defer fs.close(rfd)
	d := &dirCache{fs: fs, root: rfd, fd: -1}
	defer d.drop()
	for _, rel := range rels {
		e, err := d.stat(rel, readLinks)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			vanished = append(vanished, rel)
			continue
		}
		entries = append(entries, e)
	}
	return entries, vanished, nil
}

// dirCache keeps the last directory opened by Restat: a chunk's entries
// come a directory at a time.
type dirCache struct {
	fs   dirFS
	root int
	dir  string
	fd   int // dir's fd, or -1
}

func (d *dirCache) drop() {
	if d.fd >= 0 {
		d.fs.close(d.fd)
		d.fd = -1
	}
}

// open returns an fd of the directory dir under root, opening each name
// on the way with O_NOFOLLOW.
func (d *dirCache) open(dir string) (int, error) {
	if dir == "." {
		return d.root, nil
	}
	if d.fd >= 0 && d.dir == dir {
		return d.fd, nil
	}
	d.drop()
	fd := d.root
	for name := range strings.SplitSeq(dir, "/") {
		next, err := d.fs.openAt(fd, name)
		if fd != d.root {
			d.fs.close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	d.dir, d.fd = dir, fd
	return fd, nil
}

// stat returns the entry rel; the error is also in the entry's Err.
func (d *dirCache) stat(rel string, readLink bool) (Entry, error) {
	var st unix.Stat_t
	if rel == "." {
		err := d.fs.fstat(d.root, &st)
		e := fromStat(rel, &st)
		e.Err = err
		return e, err
	}
	dir, name := ".", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, name = rel[:i], rel[i+1:]
	}
	fd, err := d.open(dir)
	if err == nil {
		err = d.fs.statAt(fd, name, &st)
	}
	if err != nil {
		return Entry{Path: rel, Err: err}, err
	}
	e := fromStat(rel, &st)
	if readLink && e.IsSymlink() {
		e.Target, e.Err = d.fs.readlinkAt(fd, name)
	}
	return e, e.Err
}
