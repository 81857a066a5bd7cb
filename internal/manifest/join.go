package manifest

import (
	"fmt"
	"io"
)

// Join is a merge join of two sorted streams by path. For each path in
// either, in Compare order, it calls fn once: fn(ra, nil) for a path only
// in a, fn(nil, rb) for one only in b, fn(ra, rb) for one in both. The
// records are valid only during the call. Join stops at the first error of
// fn or of a stream and returns it, or returns nil after both streams end.
// It checks the order of both streams, so that a mis-sorted one is an
// error rather than a wrong answer.
//
// Uses: copy hashes from the previous manifest into the next (both), and
// find the entries a snapshot gained (only b) and lost (only a).
func Join(a, b Stream, fn func(ra, rb *Record) error) error {
	ca, cb := joinCursor{src: a, side: "a"}, joinCursor{src: b, side: "b"}
	if err := ca.next(); err != nil {
		return err
	}
	if err := cb.next(); err != nil {
		return err
	}
	for !ca.done || !cb.done {
		c := 0
		switch {
		case ca.done:
			c = +1
		case cb.done:
			c = -1
		default:
			c = Compare(ca.rec.Path, cb.rec.Path)
		}
		var ra, rb *Record
		if c <= 0 {
			ra = &ca.rec
		}
		if c >= 0 {
			rb = &cb.rec
		}
		if err := fn(ra, rb); err != nil {
			return err
		}
		if ra != nil {
			if err := ca.next(); err != nil {
				return err
			}
		}
		if rb != nil {
			if err := cb.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinCursor is one side of a Join.
type joinCursor struct {
	src     Stream
	side    string
	rec     Record
	started bool
	done    bool
}

func (c *joinCursor) next() error {
	rec, err := c.src.Next()
	if err == io.EOF {
		c.done = true
		return nil
	}
	if err != nil {
		return err
	}
	if c.started && Compare(c.rec.Path, rec.Path) >= 0 {
		return fmt.Errorf("join: stream %s: %q after %q: %w", c.side, rec.Path, c.rec.Path, ErrCorrupt)
	}
	c.rec, c.started = rec, true
	return nil
}
