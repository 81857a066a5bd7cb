package efsync

import (
	"context"
	"errors"
	"fmt"
	"github.com/efsync/efsync/internal/sys"
	"io"
	"os"
	"path"
	"strings"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/partition"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// treeRoot reads entries of a tree for manifests and verification:
// every path is resolved beneath the root without following a symlink,
// so a damaged snapshot can't make us read outside it.
type treeRoot struct {
	fd int
}

func openTreeRoot(dir string) (*treeRoot, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &treeRoot{fd: fd}, nil
}

func (t *treeRoot) close() { unix.Close(t.fd) }

// openBeneath opens rel under the root with flags, through no symlink.
func (t *treeRoot) openBeneath(rel string, flags uint64) (int, error) {
	return unix.Openat2(t.fd, rel, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
}

// probe returns the record of the entry rel as the tree has it, its
// xattrs' digest included unless noXattrs, and with hash its content's
// xxh3-128, read through buf (the caller's own: one per goroutine). It
// returns an error matching fs.ErrNotExist if rel is not there.
func (t *treeRoot) probe(ctx context.Context, rel string, hash, noXattrs bool, buf []byte) (manifest.Record, error) {
	dir, name := path.Split(rel)
	pfd := t.fd
	if dir != "" {
		fd, err := t.openBeneath(strings.TrimSuffix(dir, "/"), unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return manifest.Record{}, notThere(rel, err)
		}
		defer unix.Close(fd)
		pfd = fd
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return manifest.Record{}, notThere(rel, err)
	}
	e := partition.Entry{Path: rel, Mode: st.Mode, Size: st.Size, UID: st.Uid, GID: st.Gid,
		Mtime: st.Mtim.Nano(), Rdev: uint64(st.Rdev)}
	r := recordOf(&e)
	if r.Type == manifest.TypeSymlink {
		target, err := sys.ReadlinkAt(pfd, name)
		if err != nil {
			return r, err
		}
		r.Target = target
	}
	if !noXattrs {
		x, err := xattrsAt(pfd, name)
		if err != nil {
			return r, fmt.Errorf("%s: xattrs: %w", rel, err)
		}
		r.Xattrs = manifest.XattrHash(x)
	}
	if hash && r.Type == manifest.TypeFile {
		sum, err := t.hash(ctx, rel, buf)
		if err != nil {
			return r, err
		}
		r.Hash, r.HasHash = sum, true
	}
	return r, nil
}

// hash returns the xxh3-128 of the file rel's content, read through buf.
func (t *treeRoot) hash(ctx context.Context, rel string, buf []byte) ([16]byte, error) {
	fd, err := t.openBeneath(rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return [16]byte{}, notThere(rel, err)
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	h := xxh3.New128()
	for {
		if err := ctx.Err(); err != nil {
			return [16]byte{}, err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return h.Sum128().Bytes(), nil
		}
		if err != nil {
			return [16]byte{}, fmt.Errorf("read %s: %w", rel, err)
		}
	}
}

// notThere wraps an error about rel, as fs.ErrNotExist when the entry or
// a directory on its way is missing or not a directory.
func notThere(rel string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("%s: %w", rel, os.ErrNotExist)
	}
	return fmt.Errorf("%s: %w", rel, err)
}

// xattrsAt returns the extended attributes of name in dirfd, without
// following it if it is a symlink; none where the file system has none.
func xattrsAt(dirfd int, name string) (map[string][]byte, error) {
	p := fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, name)
	buf := make([]byte, 4096)
	var n int
	for {
		var err error
		n, err = unix.Llistxattr(p, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		break
	}
	x := map[string][]byte{}
	for _, attr := range strings.Split(string(buf[:n]), "\x00") {
		if attr == "" {
			continue
		}
		v := make([]byte, 256)
		for {
			k, err := unix.Lgetxattr(p, attr, v)
			if errors.Is(err, unix.ERANGE) {
				v = make([]byte, len(v)*8)
				continue
			}
			if errors.Is(err, unix.ENODATA) {
				break // removed meanwhile
			}
			if err != nil {
				return nil, err
			}
			x[attr] = v[:k]
			break
		}
	}
	return x, nil
}
