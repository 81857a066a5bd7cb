package transfer

import (
	"errors"
	"math"

	"golang.org/x/sys/unix"
)

// noData is the offset extents.next gives when no data follows.
const noData = math.MaxInt64

// span is a range of offsets [lo, hi).
type span struct{ lo, hi int64 }

// extents walks one file's data extents forward with SEEK_DATA and
// SEEK_HOLE: a pair of calls per extent, so a dense file costs two calls
// in all. Where the file system can't tell (NFS before 4.2), all of the
// file is data. One extents serves one fd in one goroutine.
type extents struct {
	fd int

	// state
	ok        bool
	from      int64 // the offset the cached answer was asked at
	data, end int64 // the first data extent at or after from: [data, end)
}

// next returns the data extent that holds off, or else the first after
// it, as [data, end) with data >= off; data is noData if none follows.
func (x *extents) next(off int64) (int64, int64) {
	if x.ok && off >= x.from && off < x.end {
		return max(x.data, off), x.end
	}
	x.ok, x.from = true, off
	d, err := unix.Seek(x.fd, off, unix.SEEK_DATA)
	switch {
	case errors.Is(err, unix.ENXIO): // only a hole, or the end, is left
		x.data, x.end = noData, noData
		return x.data, x.end
	case err != nil:
		x.data, x.end = off, noData
		return x.data, x.end
	}
	h, err := unix.Seek(x.fd, d, unix.SEEK_HOLE)
	if err != nil {
		h = noData
	}
	x.data, x.end = d, h
	return d, h
}

// read fills buf with the file's bytes at off and returns the holes in
// it, relative to buf, into holes[:0]. A hole is zeroed, not read: it
// reads as zeros anyway, and costs no call. It returns how many bytes it
// read past the last hole, fewer than asked (and errShort) if the file
// ended there; a file that shrank to a hole's offset is not noticed, and
// the caller's check of its stat afterwards must be.
func (x *extents) read(buf []byte, off int64, holes []span) (int64, []span, error) {
	holes = holes[:0]
	end := off + int64(len(buf))
	for pos := off; pos < end; {
		d, e := x.next(pos)
		d, e = min(d, end), min(e, end)
		if d > pos {
			clear(buf[pos-off : d-off])
			holes = addHole(holes, pos-off, d-off)
		}
		if d == end {
			break
		}
		k, err := preadFull(x.fd, buf[d-off:e-off], d)
		if err != nil {
			return d - off + k, holes, err
		}
		pos = e
	}
	return int64(len(buf)), holes, nil
}

// sameHoles reports whether the holes a and b (sorted, disjoint) cover
// the same parts of [lo, hi).
func sameHoles(a, b []span, lo, hi int64) bool {
	a, b = clip(a, lo, hi), clip(b, lo, hi)
	for len(a) > 0 && len(b) > 0 {
		x, y := cut(a[0], lo, hi), cut(b[0], lo, hi)
		if x != y {
			return false
		}
		a, b = clip(a[1:], lo, hi), clip(b[1:], lo, hi)
	}
	return len(a) == 0 && len(b) == 0
}

// clip drops the leading spans of s that end at or before lo, and
// returns nothing if the next starts at or after hi.
func clip(s []span, lo, hi int64) []span {
	for len(s) > 0 && s[0].hi <= lo {
		s = s[1:]
	}
	if len(s) > 0 && s[0].lo >= hi {
		return nil
	}
	return s
}

// covered reports whether the holes s cover all of [lo, hi).
func covered(s []span, lo, hi int64) bool {
	s = clip(s, lo, hi)
	return len(s) > 0 && s[0].lo <= lo && s[0].hi >= hi
}

// cut returns s within [lo, hi).
func cut(s span, lo, hi int64) span { return span{max(s.lo, lo), min(s.hi, hi)} }

// addHole appends [lo, hi) to holes, merged with the last if they touch.
func addHole(holes []span, lo, hi int64) []span {
	if lo >= hi {
		return holes
	}
	if n := len(holes); n > 0 && holes[n-1].hi >= lo {
		holes[n-1].hi = max(holes[n-1].hi, hi)
		return holes
	}
	return append(holes, span{lo, hi})
}
