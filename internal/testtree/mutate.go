package testtree

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kind is a kind of change Mutate makes.
type Kind string

// The kinds of change. ContentSameMtime is not among DefaultKinds: only a
// checksum comparison can find it.
const (
	ContentSameSecond Kind = "content-same-second" // same size, same mtime second, other ns
	ContentSameMtime  Kind = "content-same-mtime"  // same size and mtime to the ns
	Resize            Kind = "size"
	Chmod             Kind = "mode"
	Chown             Kind = "owner" // needs root
	Touch             Kind = "mtime"
	TouchNs           Kind = "mtime-ns"
	FileToDir         Kind = "file-to-dir"
	FileToSymlink     Kind = "file-to-symlink"
	DirToFile         Kind = "dir-to-file"
	DirToSymlink      Kind = "dir-to-symlink"
	SymlinkToFile     Kind = "symlink-to-file"
	SymlinkToDir      Kind = "symlink-to-dir"
	DeleteFile        Kind = "delete-file"
	DeleteTree        Kind = "delete-tree"
	Rename            Kind = "rename"
	NewFile           Kind = "new-file"
	NewHardLink       Kind = "new-hardlink"
	SplitHardLink     Kind = "split-hardlink"
	Append            Kind = "append" // to a file of BigSize or more
	SetXattr          Kind = "xattr"
)

// DefaultKinds are the changes a copier's quick check must find; Chown is
// among them only when the process is root.
func DefaultKinds() []Kind {
	k := []Kind{ContentSameSecond, Resize, Chmod, Touch, TouchNs, FileToDir, FileToSymlink, DirToFile,
		DirToSymlink, SymlinkToFile, SymlinkToDir, DeleteFile, DeleteTree, Rename, NewFile, NewHardLink,
		SplitHardLink, Append, SetXattr}
	if os.Geteuid() == 0 {
		k = append(k, Chown)
	}
	return k
}

// MutateOptions says how much of a tree Mutate changes, and how.
type MutateOptions struct {
	Seed int64
	// Percent of the tree's entries to change; every kind is made at least
	// once where the tree has an entry it applies to.
	Percent    float64
	Kinds      []Kind // nil means DefaultKinds
	AppendSize int64  // bytes added by Append; 0 means 1 MiB
}

// Mutation is one change Mutate made: Path was changed; for Rename and
// NewHardLink, To is the new name.
type Mutation struct {
	Kind     Kind
	Path, To string
}

// Mutate changes entries of the tree at root, as a user would between two
// backups, and returns what it did. The same tree and options give the same
// changes.
func Mutate(root string, o MutateOptions) ([]Mutation, error) {
	if o.Kinds == nil {
		o.Kinds = DefaultKinds()
	}
	if o.AppendSize == 0 {
		o.AppendSize = 1 << 20
	}
	s, err := Scan(context.Background(), root, false)
	if err != nil {
		return nil, err
	}
	m := &mutator{root: root, o: o, s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x3a7e))}
	for p := range s {
		if p != "." {
			m.paths = append(m.paths, p)
		}
	}
	sort.Strings(m.paths)
	n := max(len(o.Kinds), int(o.Percent/100*float64(len(m.paths))+0.5))
	var done []Mutation
	for i := 0; i < n; i++ {
		kind := o.Kinds[i%len(o.Kinds)]
		p, ok := m.pick(kind)
		if !ok {
			continue
		}
		mu := Mutation{Kind: kind, Path: p}
		if err := m.apply(&mu); err != nil {
			return done, fmt.Errorf("mutate %s %q: %w", kind, p, err)
		}
		m.used = append(m.used, p, mu.To)
		done = append(done, mu)
	}
	return done, nil
}

type mutator struct {
	root  string
	o     MutateOptions
	s     Snapshot
	rng   *rand.Rand
	paths []string // sorted, without the root
	used  []string // changed paths: nothing under or above them changes again
	n     int
}

// fits reports whether kind applies to the entry n.
func fits(kind Kind, n *Node) bool {
	switch kind {
	case ContentSameSecond, ContentSameMtime:
		return n.Type == File && n.Size > 0
	case Resize, Rename, NewHardLink, FileToDir, FileToSymlink:
		return n.Type == File
	case Append:
		return n.Type == File && n.Size >= BigSize && n.Size-n.Alloc < SparseHoles
	case SplitHardLink:
		return n.Type == File && len(n.Links) > 0
	case Chmod, SetXattr:
		return n.Type == File || n.Type == Dir
	case DirToFile, DirToSymlink, DeleteTree, NewFile:
		return n.Type == Dir
	case SymlinkToFile, SymlinkToDir:
		return n.Type == Symlink
	case DeleteFile:
		return n.Type != Dir
	}
	return true // Chown, Touch, TouchNs
}

func (m *mutator) free(p string) bool {
	for _, u := range m.used {
		if u != "" && (p == u || strings.HasPrefix(p, u+"/") || strings.HasPrefix(u, p+"/")) {
			return false
		}
	}
	return true
}

// pick returns a random unused entry that kind applies to.
func (m *mutator) pick(kind Kind) (string, bool) {
	start := m.rng.IntN(len(m.paths) + 1)
	for i := range m.paths {
		p := m.paths[(start+i)%len(m.paths)]
		if fits(kind, m.s[p]) && m.free(p) {
			return p, true
		}
	}
	return "", false
}

func (m *mutator) abs(rel string) string { return filepath.Join(m.root, filepath.FromSlash(rel)) }

func (m *mutator) newName(near string) string {
	m.n++
	return path.Join(path.Dir(near), fmt.Sprintf("mut-%d-%04d", m.o.Seed, m.n))
}

func (m *mutator) apply(mu *Mutation) error {
	p, n := m.abs(mu.Path), m.s[mu.Path]
	old := time.Unix(0, int64(n.Mtime))
	switch mu.Kind {
	case ContentSameSecond, ContentSameMtime:
		if err := flipByte(p, m.rng.Int64N(n.Size)); err != nil {
			return err
		}
		if mu.Kind == ContentSameSecond {
			return setMtime(p, old.Truncate(time.Second).Add(time.Duration((old.Nanosecond()+1+m.rng.IntN(1e8))%1e9)))
		}
		return setMtime(p, old)
	case Resize:
		return os.Truncate(p, n.Size+1+m.rng.Int64N(1000))
	case Chmod:
		return os.Chmod(p, os.FileMode(n.Mode^0o010))
	case Chown:
		return os.Lchown(p, int(n.UID)+1, int(n.GID)+1)
	case Touch:
		return setMtime(p, old.Add(time.Duration(1+m.rng.IntN(1000))*time.Second+time.Duration(m.rng.IntN(1e9))))
	case TouchNs:
		return setMtime(p, old.Truncate(time.Second).Add(time.Duration((old.Nanosecond()+1)%1e9)))
	case Append:
		return appendTo(p, Content(m.rng.Uint64(), 0, m.o.AppendSize))
	case SetXattr:
		return asWriter(p, n, func() error {
			return unix.Lsetxattr(p, "user.efsync-mutate", []byte(fmt.Sprint(m.rng.Uint32())), 0)
		})
	}
	return m.inParent(mu.Path, func() error { return m.applyEntry(mu, p) })
}

// applyEntry makes the changes that add or remove names in p's directory.
func (m *mutator) applyEntry(mu *Mutation, p string) error {
	switch mu.Kind {
	case FileToDir, SymlinkToDir:
		return replace(p, func() error { return os.Mkdir(p, 0o755) })
	case FileToSymlink, DirToSymlink:
		return replace(p, func() error { return os.Symlink("mutated-target", p) })
	case DirToFile, SymlinkToFile:
		return replace(p, func() error { return writeNew(p, Content(m.rng.Uint64(), 0, 1000)) })
	case DeleteFile, DeleteTree:
		return removeAll(p)
	case Rename:
		mu.To = m.newName(m.paths[m.rng.IntN(len(m.paths))])
		if t := m.s[path.Dir(mu.To)]; t == nil || t.Type != Dir || !m.free(path.Dir(mu.To)) {
			mu.To = m.newName(mu.Path)
		}
		return m.inParent(mu.To, func() error { return os.Rename(p, m.abs(mu.To)) })
	case NewHardLink:
		mu.To = m.newName(mu.Path)
		return os.Link(p, m.abs(mu.To))
	case NewFile:
		mu.Path = m.newName(mu.Path + "/x")
		return writeNew(m.abs(mu.Path), Content(m.rng.Uint64(), 0, int64(m.rng.IntN(20000))))
	case SplitHardLink:
		return splitLink(p)
	}
	return fmt.Errorf("unknown kind")
}

// asWriter runs f, which needs write permission on p (as setting a user.*
// xattr does without root), making p owner-writable for the time of f.
func asWriter(p string, n *Node, f func() error) error {
	if os.Geteuid() == 0 || n.Mode&0o200 != 0 {
		return f()
	}
	if err := unix.Chmod(p, uint32(n.Mode|0o200)); err != nil {
		return err
	}
	err := f()
	if cerr := unix.Chmod(p, uint32(n.Mode)); err == nil {
		err = cerr
	}
	return err
}

// inParent runs f with rel's directory writable, as its owner could make it.
func (m *mutator) inParent(rel string, f func() error) error {
	dir := filepath.Dir(m.abs(rel))
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil || st.Mode&0o200 != 0 || os.Geteuid() == 0 {
		return f()
	}
	if err := unix.Chmod(dir, st.Mode&0o7777|0o200); err != nil {
		return err
	}
	err := f()
	if cerr := unix.Chmod(dir, st.Mode&0o7777); err == nil {
		err = cerr
	}
	return err
}

func replace(p string, create func() error) error {
	if err := removeAll(p); err != nil {
		return err
	}
	return create()
}

// removeAll removes p, making read-only directories under it writable first.
func removeAll(p string) error {
	if os.Geteuid() != 0 {
		_ = filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(q, 0o700)
			}
			return nil
		})
	}
	return os.RemoveAll(p)
}

func setMtime(p string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func flipByte(p string, off int64) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	b := []byte{0}
	if _, err = f.ReadAt(b, off); err == nil {
		b[0] ^= 0xff
		_, err = f.WriteAt(b, off)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func appendTo(p string, r io.Reader) error { return writeTo(p, os.O_WRONLY|os.O_APPEND, r) }

func writeNew(p string, r io.Reader) error {
	return writeTo(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, r)
}

// writeTo opens p with flags, copies r into it and closes it.
func writeTo(p string, flags int, r io.Reader) error {
	f, err := os.OpenFile(p, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// splitLink gives p an inode of its own with the same content and metadata.
func splitLink(p string) error {
	tmp := p + ".split"
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := unix.Lchown(tmp, int(st.Uid), int(st.Gid)); err != nil && os.Geteuid() == 0 {
		return err
	}
	if err := unix.Chmod(tmp, st.Mode&0o7777); err != nil {
		return err
	}
	xs, err := readXattrs(p)
	if err != nil {
		return err
	}
	for name, v := range xs {
		if err := unix.Lsetxattr(tmp, name, []byte(v), 0); err != nil {
			return err
		}
	}
	if err := setMtime(tmp, time.Unix(0, st.Mtim.Nano())); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
