package manifest

import (
	"fmt"
	"io"
	"os"
)

// Stream is a sequence of records sorted by path (see Compare), each path
// once. Next MUST return io.EOF after the last record, and MUST keep
// returning an error once it has returned one. Reader, Sorted and any
// sorted slice (SliceStream) are Streams.
type Stream interface {
	Next() (Record, error)
}

// Reader reads a manifest file, record by record, in Compare order. It is
// not safe for concurrent use.
type Reader struct {
	// config
	name string
	file io.Closer // nil when the caller owns the source
	// state
	dec  *decoder
	last string
	n    int   // records returned
	err  error // sticky: io.EOF or the first failure
}

// Open opens the manifest file name and checks its header. The caller
// MUST Close the Reader.
func Open(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a manifest from src, named name in errors. Closing the
// Reader does not close src.
func NewReader(src io.Reader, name string) (*Reader, error) {
	dec, err := newDecoder(src)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", name, err)
	}
	return &Reader{name: name, dec: dec}, nil
}

// Name returns the name the Reader was opened with.
func (r *Reader) Name() string { return r.name }

// Next returns the next record. At the end of a complete manifest it
// returns io.EOF. A damaged, truncated or out-of-order manifest, or one
// with a path Record.Path does not allow, gives an error that names the
// file and wraps ErrCorrupt.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	var rec Record
	err := r.dec.next(&rec)
	switch {
	case err != nil:
	case !validPath(rec.Path):
		// NB: a reader of the manifest may join these paths to a
		// directory; "../x" must not get that far.
		err = fmt.Errorf("%w: bad path %q", ErrCorrupt, rec.Path)
	case r.n > 0 && Compare(r.last, rec.Path) >= 0:
		err = fmt.Errorf("%w: path %q after %q", ErrCorrupt, rec.Path, r.last)
	}
	if err == io.EOF {
		r.err = io.EOF
		return Record{}, io.EOF
	}
	if err != nil {
		r.err = fmt.Errorf("read manifest %s: record %d: %w", r.name, r.n, err)
		return Record{}, r.err
	}
	r.last = rec.Path
	r.n++
	return rec, nil
}

// Close releases the Reader, and closes the file Open opened.
func (r *Reader) Close() error {
	err := r.dec.close()
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// SliceStream returns a Stream of recs, which MUST be sorted by path
// (see Compare), each path once. It is for tests and small sets.
func SliceStream(recs []Record) Stream {
	return &sliceStream{recs: recs}
}

// sliceStream is a Stream of a slice.
type sliceStream struct {
	recs []Record
}

func (s *sliceStream) Next() (Record, error) {
	if len(s.recs) == 0 {
		return Record{}, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}
