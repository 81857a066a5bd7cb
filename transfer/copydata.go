package transfer

import (
	"context"
	"errors"

	"github.com/efsync/efsync/kpi"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// piece is the most copied between two looks at ctx: a cancelled run stops
// within one piece's time.
const piece = 8 << 20

// copyData copies the data extents of src between off and end to dst, at
// the same offsets, so holes stay holes (SEEK_DATA/SEEK_HOLE); dst is new
// (or its range is, for a huge file's piece), so its holes read as zeros
// already. It uses copy_file_range where the kernel offers it between the
// two file systems, and read and write otherwise. The caller sets dst's
// size. With h, it hashes the range as it goes, holes as the zeros they
// read as, and uses read and write only.
func (c *Copier) copyData(ctx context.Context, src, dst int, off, end int64, f *kpi.File, h *xxh3.Hasher128) error {
	var buf []byte
	for off < end {
		data, hole := nextData(src, off, end)
		if h != nil {
			hashZeros(h, data-off) // a hole reads as zeros
		}
		if data >= end {
			return nil
		}
		for off = data; off < hole; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := int(min(hole-off, piece))
			var err error
			if h == nil && !c.noCFR.Load() {
				n, err = copyRange(src, dst, off, n)
				if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
					c.noCFR.Store(true)
					continue
				}
			} else {
				if buf == nil {
					buf = make([]byte, 1<<20)
				}
				n, err = preadWrite(src, dst, off, buf[:min(len(buf), n)])
				if h != nil && n > 0 {
					h.Write(buf[:n])
				}
			}
			if err != nil {
				return err
			}
			if n == 0 {
				return errChanged // the file shrank under us
			}
			off += int64(n)
			f.Copied(int64(n))
		}
	}
	return nil
}

func copyRange(src, dst int, off int64, n int) (int, error) {
	roff, woff := off, off
	return unix.CopyFileRange(src, &roff, dst, &woff, n, 0)
}

func preadWrite(src, dst int, off int64, buf []byte) (int, error) {
	n, err := unix.Pread(src, buf, off)
	if err != nil || n == 0 {
		return n, err
	}
	for w := 0; w < n; {
		k, err := unix.Pwrite(dst, buf[w:n], off+int64(w))
		if err != nil {
			return w, err
		}
		w += k
	}
	return n, nil
}

// zeros is a block of zeros to hash holes with.
var zeros [64 << 10]byte

// hashZeros feeds n zero bytes to h.
func hashZeros(h *xxh3.Hasher128, n int64) {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		h.Write(zeros[:k])
		n -= k
	}
}

// nextData returns the next run of data in fd at or after off, before
// end: [data, hole), data = end if only a hole is left. Where the file
// system can't tell (no SEEK_DATA), all of it is data.
func nextData(fd int, off, end int64) (data, hole int64) {
	data, err := unix.Seek(fd, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) || (err == nil && data >= end) {
		return end, end
	} else if err != nil {
		return off, end
	}
	hole, err = unix.Seek(fd, data, unix.SEEK_HOLE)
	if err != nil {
		return data, end
	}
	return data, min(hole, end)
}
