package transfer

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"golang.org/x/sys/unix"
)

// at names an entry without a path from the root: by an open fd of it, or
// by its name in an open directory. Calls that have no *at form (xattr
// writes, reads before Linux 6.13, chmod on old kernels) go through
// /proc/self/fd, which pins the directory, with no-follow calls for the
// last name: a symlink planted there can't redirect them.
type at struct {
	fd    int // the entry itself, or -1
	dirfd int
	name  string
}

func (a at) proc() string {
	if a.fd >= 0 {
		return fmt.Sprintf("/proc/self/fd/%d", a.fd)
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", a.dirfd, a.name)
}

// xattrs maps names to values.
type xattrs map[string]string

// read returns every extended attribute of a; nil when it has none
// or the file system has none.
func (r *xattrReader) read(a at) (xattrs, error) {
	var small [1024]byte
	buf := small[:]
	n, err := r.list(a, buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = r.list(a, nil); err == nil {
			buf = make([]byte, n)
			n, err = r.list(a, buf)
		}
	}
	if n == 0 || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listxattr: %w", err)
	}
	x := xattrs{}
	for name := range strings.SplitSeq(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		v, err := r.get(a, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the list
		}
		if err != nil {
			return nil, fmt.Errorf("getxattr %s: %w", name, err)
		}
		x[name] = v
	}
	return x, nil
}

func (r *xattrReader) get(a at, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := r.getInto(a, name, buf)
		if errors.Is(err, unix.ERANGE) {
			if n, err = r.getInto(a, name, nil); err != nil {
				return "", err
			}
			buf = make([]byte, n)
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}

// writeXattrs makes a's extended attributes want, given that it has have:
// it removes those not wanted, then sets those that differ. Names this
// process may not set (trusted.*, security.* without privilege) are
// skipped when skip says so.
func writeXattrs(a at, have, want xattrs, skip func(name string) bool) error {
	for name := range have {
		if _, ok := want[name]; ok || skip(name) {
			continue
		}
		var err error
		if a.fd >= 0 {
			err = unix.Fremovexattr(a.fd, name)
		} else {
			err = unix.Lremovexattr(a.proc(), name)
		}
		if err != nil && !errors.Is(err, unix.ENODATA) {
			return fmt.Errorf("removexattr %s: %w", name, err)
		}
	}
	for name, v := range want {
		if old, ok := have[name]; (ok && old == v) || skip(name) {
			continue
		}
		var err error
		if a.fd >= 0 {
			err = unix.Fsetxattr(a.fd, name, []byte(v), 0)
		} else {
			err = unix.Lsetxattr(a.proc(), name, []byte(v), 0)
		}
		if err != nil {
			return fmt.Errorf("setxattr %s: %w", name, err)
		}
	}
	return nil
}

// equalXattrs reports whether a and b hold the same attributes, ignoring
// the names skip says this process can't set.
func equalXattrs(a, b xattrs, skip func(string) bool) bool {
	del := func(k string, _ string) bool { return skip(k) }
	a, b = maps.Clone(a), maps.Clone(b)
	maps.DeleteFunc(a, del)
	maps.DeleteFunc(b, del)
	return maps.Equal(a, b)
}
