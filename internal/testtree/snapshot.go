package testtree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Node is what a Snapshot records of one entry: everything a copy must
// reproduce. Fields that don't apply to the type are zero: a directory has no
// size, a symlink no mode (Linux gives every symlink 0777).
type Node struct {
	Type   Type
	Mode   Mode
	UID    uint32
	GID    uint32
	Size   int64
	Mtime  Nanos
	Hash   string // xxh3-128 of the content, hex; "" unless hashed
	Target string
	Rdev   uint64
	Xattrs map[string]Xattr
	// Links lists the other paths in the tree that share this entry's
	// inode, sorted; nil when it has none.
	Links []string
	// Alloc is the bytes allocated on disk for a regular file.
	Alloc int64

	ino  [2]uint64 // dev, ino
	kids int       // entries in a directory
}

// Snapshot maps each relative slash path of a tree ("." for the root) to
// its Node.
type Snapshot map[string]*Node

// Scan reads the tree at root without following symlinks. With hash, it also
// hashes every regular file's content, several at a time.
func Scan(ctx context.Context, root string, hash bool) (Snapshot, error) {
	s := Snapshot{}
	if err := s.scan(root, "."); err != nil {
		return nil, err
	}
	s.link()
	if !hash {
		return s, nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for rel, n := range s {
		if n.Type != File {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			h, err := hashFile(filepath.Join(root, filepath.FromSlash(rel)), n.Size)
			n.Hash = h
			return err
		})
	}
	return s, g.Wait()
}

func (s Snapshot) scan(root, rel string) error {
	p := filepath.Join(root, filepath.FromSlash(rel))
	n, err := lstatNode(p)
	if err != nil {
		return fmt.Errorf("scan %s: %w", p, err)
	}
	s[rel] = n
	if n.Type != Dir {
		return nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	n.kids = len(ents)
	for _, e := range ents {
		if err := s.scan(root, path.Join(rel, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func lstatNode(p string) (*Node, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: p, Err: err}
	}
	n := &Node{
		Type: typeOf(st.Mode), Mode: Mode(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid,
		Mtime: Nanos(st.Mtim.Nano()), ino: [2]uint64{st.Dev, st.Ino},
	}
	switch n.Type {
	case File:
		n.Size, n.Alloc = st.Size, st.Blocks*512
	case Symlink:
		n.Mode = 0
		t, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		n.Target = t
	case CharDev, BlockDev:
		n.Rdev = st.Rdev
	}
	if st.Nlink < 2 || n.Type == Dir {
		n.ino = [2]uint64{}
	}
	x, err := readXattrs(p)
	n.Xattrs = x
	return n, err
}

func typeOf(mode uint32) Type {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return File
	case unix.S_IFDIR:
		return Dir
	case unix.S_IFLNK:
		return Symlink
	case unix.S_IFIFO:
		return Fifo
	case unix.S_IFSOCK:
		return Socket
	case unix.S_IFCHR:
		return CharDev
	case unix.S_IFBLK:
		return BlockDev
	}
	return 0
}

// link fills in Links from the inode numbers seen.
func (s Snapshot) link() {
	groups := map[[2]uint64][]string{}
	for rel, n := range s {
		if n.ino != ([2]uint64{}) {
			groups[n.ino] = append(groups[n.ino], rel)
		}
	}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		sort.Strings(g)
		for _, rel := range g {
			for _, o := range g {
				if o != rel {
					s[rel].Links = append(s[rel].Links, o)
				}
			}
		}
	}
}

// readXattrs returns every extended attribute of p, without following a
// symlink; nil when it has none.
func readXattrs(p string) (map[string]Xattr, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Llistxattr(p, nil); err == nil {
			buf = make([]byte, n)
			n, err = unix.Llistxattr(p, buf)
		}
	}
	if errors.Is(err, unix.EOPNOTSUPP) || n == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "listxattr", Path: p, Err: err}
	}
	m := map[string]Xattr{}
	for _, name := range splitNames(buf[:n]) {
		v, err := getXattr(p, name)
		if err != nil {
			return nil, &os.PathError{Op: "getxattr " + name, Path: p, Err: err}
		}
		m[name] = Xattr(v)
	}
	return m, nil
}

func getXattr(p, name string) ([]byte, error) {
	sz, err := unix.Lgetxattr(p, name, nil)
	if err != nil {
		return nil, err
	}
	v := make([]byte, sz)
	sz, err = unix.Lgetxattr(p, name, v)
	return v[:max(sz, 0)], err
}

func splitNames(b []byte) []string {
	var names []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i > 0 {
			names = append(names, string(b[:i]))
		}
		b = b[min(i+1, len(b)):]
	}
	return names
}
