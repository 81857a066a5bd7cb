package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/partition"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// verdict is what the quick check says of a regular file's content.
type verdict int

const (
	contentEqual  verdict = iota // up to date: at most metadata to bring
	contentHash                  // same size: equal only if the hashes are
	contentDiffer                // copy it
)

// judge is the quick check of a regular file e against its destination
// copy st (absent unless exists), under the content options: a pure
// function. recheck says the caller's Recheck named e.
func judge(e *partition.Entry, st *unix.Stat_t, exists bool, o *Options, recheck bool) verdict {
	switch {
	case !exists || o.IgnoreTimes:
		return contentDiffer
	case o.Checksum || recheck:
		// like rsync -c: the same size, whatever the mtime, is hashed. A
		// second name on the destination inode is still a difference.
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == e.Size && (st.Nlink == 1 || e.Nlink > 1) {
			return contentHash
		}
		return contentDiffer
	case upToDate(e, st, o.MtimeWindow.Nanoseconds()):
		return contentEqual
	}
	return contentDiffer
}

// judge is judge for the worker's copier, asking Recheck only when the
// answer may matter.
func (w *worker) judge(e *partition.Entry, st *unix.Stat_t, exists bool) verdict {
	o := &w.c.opt
	recheck := exists && !o.Checksum && !o.IgnoreTimes && o.Recheck != nil && o.Recheck(e.Path)
	return judge(e, st, exists, o, recheck)
}

// sameHash reports whether the regular file name has the same xxh3-128 in
// the source directory sfd and the destination directory dfd. Both sides
// are read at once: on NFS each waits on the network, not on the CPU.
func (w *worker) sameHash(ctx context.Context, e *partition.Entry, sfd, dfd int, name string) (bool, error) {
	type sum struct {
		h   xxh3.Uint128
		err error
	}
	if w.hashBufs[0] == nil {
		w.hashBufs = [2][]byte{make([]byte, 1<<20), make([]byte, 1<<20)}
	}
	dst := make(chan sum, 1)
	hashDst := func() {
		h, err := hashAt(ctx, dfd, name, w.hashBufs[1])
		dst <- sum{h, err}
	}
	if e.Size < 1<<20 {
		hashDst() // a small file: a goroutine would cost more than it saves
	} else {
		go hashDst()
	}
	sh, serr := hashAt(ctx, sfd, name, w.hashBufs[0])
	d := <-dst
	switch {
	case errors.Is(serr, errNotRegular):
		return false, fmt.Errorf("%s: %w", e.Path, errChanged) // replaced since the crawl
	case serr != nil:
		return false, sourceErr(e.Path, serr)
	case errors.Is(d.err, errNotRegular):
		return false, nil // replaced by another type: copying replaces it
	case d.err != nil:
		return false, fmt.Errorf("hash destination %s: %w", e.Path, d.err)
	}
	return sh == d.h, nil
}

// hashAt returns the xxh3-128 of the regular file name in dirfd, opened
// with O_NOFOLLOW, read through buf. It stops when ctx is cancelled.
func hashAt(ctx context.Context, dirfd int, name string, buf []byte) (xxh3.Uint128, error) {
	fd, err := openRegular(dirfd, name, unix.O_RDONLY)
	if err != nil {
		return xxh3.Uint128{}, err
	}
	defer unix.Close(fd)
	h := xxh3.New128()
	for off := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return xxh3.Uint128{}, err
		}
		n, err := unix.Pread(fd, buf, off)
		if err != nil {
			return xxh3.Uint128{}, err
		}
		if n == 0 {
			return h.Sum128(), nil
		}
		h.Write(buf[:n])
		off += int64(n)
	}
}

// errNotRegular says an entry opened as a regular file is not one: it
// was replaced since it was looked at.
var errNotRegular = errors.New("not a regular file")

// openRegular opens name in dirfd with flags, never following a symlink
// nor blocking on a fifo, and fails with errNotRegular unless it is a
// regular file.
func openRegular(dirfd int, name string, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, errNotRegular
	}
	return fd, nil
}

// hashVerdict settles a contentHash verdict by hashing both sides of the
// regular file name: contentEqual or contentDiffer.
func (w *worker) hashVerdict(ctx context.Context, e *partition.Entry, src srcDir, dfd int, name string) (verdict, error) {
	sfd, err := src.fd()
	if err != nil {
		return contentDiffer, sourceErr(e.Path, err)
	}
	same, err := w.sameHash(ctx, e, sfd, dfd, name)
	if err != nil || !same {
		return contentDiffer, err
	}
	return contentEqual, nil
}
