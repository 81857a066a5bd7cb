package manifest

import (
	"errors"
)

// Sorted is the result of Sorter.Sort: a Stream of the records in Compare
// order, each path once, merged from the run files and the last buffer. It
// is not safe for concurrent use.
type Sorted struct {
	// state
	m       *merger
	readers []*Reader
	runs    []string // removed by Close
}

// openSorted opens the runs, oldest first, and merges them with the newer
// streams in extra. On error it closes what it opened and removes the
// runs.
func openSorted(runs []string, extra ...Stream) (*Sorted, error) {
	s := &Sorted{runs: runs}
	srcs := make([]Stream, 0, len(runs)+len(extra))
	for _, name := range runs {
		r, err := Open(name)
		if err != nil {
			return nil, errors.Join(err, s.Close())
		}
		s.readers = append(s.readers, r)
		srcs = append(srcs, r)
	}
	m, err := newMerger(append(srcs, extra...))
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.m = m
	return s, nil
}

// Next returns the next record, or io.EOF after the last one.
func (s *Sorted) Next() (Record, error) { return s.m.Next() }

// Close closes the run files and removes them.
func (s *Sorted) Close() error {
	var errs []error
	for _, r := range s.readers {
		errs = append(errs, r.Close())
	}
	s.readers = nil
	errs = append(errs, removeAll(s.runs))
	s.runs = nil
	return errors.Join(errs...)
}
