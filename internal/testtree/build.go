package testtree

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Build creates the tree under dir, which must exist, and returns the count
// of each shape it made. Entries that this process may not create (devices
// without privilege, ACLs where the file system has none, other owners and
// trusted.* xattrs unless root) are left out and not counted.
func (t *Tree) Build(dir string) (Counts, error) {
	b := builder{root: dir, skipped: map[string]bool{}, noXattr: map[string]map[string]bool{}}
	for i := range t.Entries {
		if err := b.create(&t.Entries[i]); err != nil {
			return nil, err
		}
	}
	// Metadata last: non-directories in order, then directories deepest
	// first, because creating an entry changes its parent's mtime.
	var dirs []*Entry
	for i := range t.Entries {
		e := &t.Entries[i]
		switch {
		case b.skipped[e.Path] || e.LinkOf != "":
		case e.Type == Dir:
			dirs = append(dirs, e)
		default:
			if err := b.setMeta(e); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool { return depth(dirs[i].Path) > depth(dirs[j].Path) })
	for _, e := range dirs {
		if err := b.setMeta(e); err != nil {
			return nil, err
		}
	}
	return t.counts(b), nil
}

type builder struct {
	root    string
	skipped map[string]bool            // entries not created
	noXattr map[string]map[string]bool // xattrs not set, by entry
}

func (b *builder) abs(rel string) string { return filepath.Join(b.root, filepath.FromSlash(rel)) }

func depth(p string) int { return strings.Count(p, "/") }

func (b *builder) create(e *Entry) error {
	p := b.abs(e.Path)
	var err error
	switch {
	case e.Path == ".":
		return nil
	case e.LinkOf != "":
		err = unix.Link(b.abs(e.LinkOf), p)
	case e.Type == Dir:
		err = unix.Mkdir(p, 0o700)
	case e.Type == File:
		err = writeFile(p, e)
	case e.Type == Symlink:
		err = unix.Symlink(e.Target, p)
	case e.Type == Fifo:
		err = unix.Mkfifo(p, 0o600)
	case e.Type == Socket:
		err = unix.Mknod(p, unix.S_IFSOCK|0o600, 0)
	case e.Type == CharDev || e.Type == BlockDev:
		kind := uint32(unix.S_IFCHR)
		if e.Type == BlockDev {
			kind = unix.S_IFBLK
		}
		err = unix.Mknod(p, kind|0o600, int(e.Rdev))
		if errors.Is(err, unix.EPERM) {
			b.skipped[e.Path] = true
			return nil
		}
	default:
		return fmt.Errorf("testtree: %q: unknown type %v", e.Path, e.Type)
	}
	if err != nil {
		return fmt.Errorf("testtree: create %q: %w", e.Path, err)
	}
	return nil
}

func writeFile(p string, e *Entry) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	for _, x := range e.extents() {
		if _, err = io.Copy(io.NewOffsetWriter(f, x.Off), Content(e.Seed, x.Off, x.Len)); err != nil {
			break
		}
	}
	if err == nil {
		err = f.Truncate(e.Size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// setMeta sets e's metadata in the order a copier must: chown clears setuid,
// so mode comes after it, and times come last.
func (b *builder) setMeta(e *Entry) error {
	p := b.abs(e.Path)
	wrap := func(op string, err error) error { return fmt.Errorf("testtree: %s %q: %w", op, e.Path, err) }
	if (e.UID >= 0 || e.GID >= 0) && os.Geteuid() == 0 {
		if err := unix.Lchown(p, e.UID, e.GID); err != nil {
			return wrap("chown", err)
		}
	}
	for name, v := range e.Xattrs {
		if err := unix.Lsetxattr(p, name, []byte(v), 0); err != nil {
			if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EOPNOTSUPP) {
				return wrap("setxattr "+name, err)
			}
			if b.noXattr[e.Path] == nil {
				b.noXattr[e.Path] = map[string]bool{}
			}
			b.noXattr[e.Path][name] = true
		}
	}
	if e.Type != Symlink {
		if err := unix.Chmod(p, e.Mode); err != nil {
			return wrap("chmod", err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(e.Mtime.UnixNano()), unix.NsecToTimespec(e.Mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return wrap("utimes", err)
	}
	return nil
}

// counts classifies the entries b made, as Observe would find them.
func (t *Tree) counts(b builder) Counts {
	byPath := map[string]*Entry{}
	children := map[string]int{}
	groups := map[string][]string{}
	for i := range t.Entries {
		e := &t.Entries[i]
		if b.skipped[e.Path] {
			continue
		}
		byPath[e.Path] = e
		if e.Path != "." {
			children[parent(e.Path)]++
		}
		if e.LinkOf != "" {
			groups[e.LinkOf] = append(groups[e.LinkOf], e.Path)
		}
	}
	c := Counts{}
	for i := range t.Entries {
		e := &t.Entries[i]
		if b.skipped[e.Path] {
			continue
		}
		m := e
		if e.LinkOf != "" {
			m = byPath[e.LinkOf]
		}
		f := facts{path: e.Path, typ: m.Type, mode: m.Mode, size: m.Size, alloc: m.allocated(),
			mtimeNsec: int64(m.Mtime.Nanosecond()), target: m.Target, empty: children[e.Path] == 0,
			otherOwner: os.Geteuid() == 0 && (m.UID > 0 || m.GID > 0)}
		if m.Type == Symlink {
			if t := byPath[path.Join(parent(e.Path), m.Target)]; t != nil {
				f.targetType = t.Type
			}
		}
		for name := range m.Xattrs {
			if !b.noXattr[m.Path][name] {
				f.xattrs = append(f.xattrs, name)
			}
		}
		c.classify(f)
	}
	var gs [][]string
	for first, rest := range groups {
		gs = append(gs, append([]string{first}, rest...))
	}
	c.classifyGroups(gs)
	return c
}

// parent returns the slash path's directory, "." for a top-level entry.
func parent(p string) string { return path.Dir(p) }
