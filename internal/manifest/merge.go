package manifest

import (
	"container/heap"
	"io"
)

// merger is a k-way merge of sorted Streams on a container/heap. Streams
// are given oldest first; of records with equal paths, the one from the
// newest stream wins ("last added wins"). It is not safe for concurrent
// use.
type merger struct {
	// state
	h   cursorHeap
	err error // sticky
}

// cursor is a stream and its current record.
type cursor struct {
	src Stream
	rec Record
	age int // the stream's index: higher is newer
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if c := Compare(h[i].rec.Path, h[j].rec.Path); c != 0 {
		return c < 0
	}
	return h[i].age < h[j].age
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}

// newMerger reads the first record of each stream.
func newMerger(srcs []Stream) (*merger, error) {
	m := &merger{h: make(cursorHeap, 0, len(srcs))}
	for i, src := range srcs {
		rec, err := src.Next()
		if err == io.EOF {
			continue
		}
		if err != nil {
			return nil, err
		}
		m.h = append(m.h, &cursor{src: src, rec: rec, age: i})
	}
	heap.Init(&m.h)
	return m, nil
}

// Next returns the next path's newest record, or io.EOF.
func (m *merger) Next() (Record, error) {
	if m.err != nil {
		return Record{}, m.err
	}
	if len(m.h) == 0 {
		return Record{}, io.EOF
	}
	out := m.h[0].rec
	m.advance()
	// Equal paths come from distinct streams, oldest first.
	for m.err == nil && len(m.h) > 0 && m.h[0].rec.Path == out.Path {
		out = m.h[0].rec
		m.advance()
	}
	if m.err != nil {
		return Record{}, m.err
	}
	return out, nil
}

// advance moves the top cursor to its stream's next record.
func (m *merger) advance() {
	c := m.h[0]
	rec, err := c.src.Next()
	switch {
	case err == io.EOF:
		heap.Pop(&m.h)
	case err != nil:
		m.err = err
	default:
		c.rec = rec
		heap.Fix(&m.h, 0)
	}
}
