package transfer

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// errAbsent is returned in a dry run for a destination directory that does
// not exist yet: everything under it would be new.
var errAbsent = errors.New("absent at the destination")

// chain keeps one path's directories open, from the root down. A worker
// moving through a chunk, which the crawl filled depth first, opens each
// directory once, and every later call is relative to an fd: no lookup
// per path component per call (a millisecond each on EFS), no PATH_MAX,
// and no symlink in the destination can redirect a call, since each
// component is opened with O_NOFOLLOW. A chain is used by one goroutine.
type chain struct {
	c     *Copier
	root  int // not owned
	dst   bool
	names []string
	fds   []int
}

func (c *Copier) newChain(dst bool) *chain {
	root := c.srcRoot
	if dst {
		root = c.dstRoot
	}
	return &chain{c: c, root: root, dst: dst}
}

// open returns an fd of directory rel, valid until the next open or close.
// On the destination side it creates missing directories (mode 0700 until
// Finish sets theirs) and replaces a non-directory in the way: the source
// has a directory there.
func (ch *chain) open(rel string) (int, error) {
	comps := components(rel)
	k := 0
	for k < len(ch.names) && k < len(comps) && ch.names[k] == comps[k] {
		k++
	}
	ch.truncate(k)
	if k == len(comps) && (k == 0 || ch.fds[k-1] >= 0) {
		return ch.top(), nil
	}
	if ch.jump(comps) {
		return ch.top(), nil
	}
	// Walk a name at a time from the deepest directory held open.
	for len(ch.fds) > 0 && ch.fds[len(ch.fds)-1] < 0 {
		ch.names, ch.fds = ch.names[:len(ch.names)-1], ch.fds[:len(ch.fds)-1]
	}
	for _, name := range comps[len(ch.names):] {
		fd, err := ch.openDir(ch.top(), join(ch.path(), name), name)
		if err != nil {
			return -1, err
		}
		ch.names = append(ch.names, name)
		ch.fds = append(ch.fds, fd)
	}
	return ch.top(), nil
}

func (ch *chain) path() string {
	if len(ch.names) == 0 {
		return "."
	}
	p := ch.names[0]
	for _, n := range ch.names[1:] {
		p += "/" + n
	}
	return p
}

func (ch *chain) top() int {
	if len(ch.fds) == 0 {
		return ch.root
	}
	return ch.fds[len(ch.fds)-1]
}

// base returns the deepest fd the chain holds open, and how many names
// deep it is.
func (ch *chain) base() (int, int) {
	for i := len(ch.fds) - 1; i >= 0; i-- {
		if ch.fds[i] >= 0 {
			return ch.fds[i], i + 1
		}
	}
	return ch.root, 0
}

// jump opens the directory comps, more than one name below the deepest
// directory held, with one openat2 that refuses every symlink and "..",
// where a name at a time would take a call per name. The names between
// are kept without fds (-1). It reports false, having changed nothing,
// when the kernel lacks openat2 or the path is not all directories
// already there: a name at a time then copes (it creates and replaces).
func (ch *chain) jump(comps []string) bool {
	parent, depth := ch.base()
	if len(comps)-depth < 2 || ch.c.noOpenat2.Load() {
		return false
	}
	ch.names, ch.fds = ch.names[:depth], ch.fds[:depth] // only -1 above depth
	fd, err := unix.Openat2(parent, strings.Join(comps[depth:], "/"), &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) { // old kernel, or seccomp
		ch.c.noOpenat2.Store(true)
	}
	if err != nil {
		return false
	}
	rel := strings.Join(comps, "/")
	if ch.dst {
		ch.c.listDst(fd, rel)
		if err := ch.c.writable(fd, rel); err != nil {
			unix.Close(fd)
			return false
		}
	}
	for i, name := range comps[depth:] {
		ch.names = append(ch.names, name)
		if i == len(comps)-depth-1 {
			ch.fds = append(ch.fds, fd)
		} else {
			ch.fds = append(ch.fds, -1)
		}
	}
	return true
}

func (ch *chain) truncate(k int) {
	for _, fd := range ch.fds[k:] {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	ch.names, ch.fds = ch.names[:k], ch.fds[:k]
}

func (ch *chain) close() { ch.truncate(0) }

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

func (ch *chain) openDir(parent int, rel, name string) (int, error) {
	fd, err := unix.Openat(parent, name, dirFlags, 0)
	if !ch.dst || err == nil {
		if err == nil && ch.dst {
			ch.c.listDst(fd, rel)
			err = ch.c.writable(fd, rel)
		}
		return fd, err
	}
	if ch.c.opt.DryRun && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) {
		return -1, errAbsent
	}
	switch {
	case errors.Is(err, unix.ENOENT):
	case errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP):
		// A file or a symlink where the source has a directory (unless
		// another worker made that directory since).
		if err := ch.c.removeNonDir(parent, rel, name); err != nil {
			return -1, err
		}
	default:
		return -1, err
	}
	err = unix.Mkdirat(parent, name, 0o700)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	if err == nil && ch.c.dirs.claim(rel) {
		ch.c.dirs.setListed(rel, nil) // new: nothing to prune in it
	}
	ch.c.dirs.created(rel)
	ch.c.dirs.dirty(parentOf(rel))
	return unix.Openat(parent, name, dirFlags, 0)
}

func parentOf(rel string) string {
	dir, _ := split(rel)
	return dir
}

// listDst reads the names in the destination directory fd (rel) the first
// time any worker opens it, for the delete pass, which then needs no
// second open and read. On NFS and FUSE the read (READDIRPLUS) also
// brings the attributes of every entry in one round trip, so the stats
// of its entries that follow need no lookup each. A listing that fails
// is left to the delete pass.
func (c *Copier) listDst(fd int, rel string) {
	if !c.opt.Delete || !c.dirs.claim(rel) {
		return
	}
	if names, err := readNames(fd); err == nil {
		c.dirs.setListed(rel, names)
	}
}
