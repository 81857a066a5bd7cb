package kpi

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Partition is the record of one partition (one fpart chunk) of the run:
// what it held, when it was copied, how it ended and after how many
// attempts. The engine fills it in when the partition is finished and
// passes it to Counters.AddPartition.
type Partition struct {
	ID       int       `json:"id"`
	Entries  int64     `json:"entries"` // entries of all types
	Files    int64     `json:"files"`   // regular files
	Bytes    int64     `json:"bytes"`   // their sizes
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Seconds  float64   `json:"seconds"` // derived from Start and End
	Status   Status    `json:"status"`
	Error    string    `json:"error,omitempty"` // the last error's message, if any
	Attempts int       `json:"attempts"`
}

// partlist holds the partition records of a run.
type partlist struct {
	mu   sync.Mutex
	list []Partition
}

// AddPartition appends the record of a finished partition. Safe for
// concurrent use: it takes a mutex, as partitions finish far less often
// than files. Seconds is set from Start and End, and both are converted to
// UTC; Seconds is 0 unless both are set. A partition added twice, as after a retry, is kept twice; the
// engine should add each partition once, with its attempts counted.
func (c *Counters) AddPartition(p Partition) {
	if c == nil {
		return
	}
	p.Start, p.End = p.Start.UTC(), p.End.UTC()
	p.Seconds = 0
	if !p.Start.IsZero() && !p.End.IsZero() {
		p.Seconds = p.End.Sub(p.Start).Seconds()
	}
	c.parts.mu.Lock()
	c.parts.list = append(c.parts.list, p)
	c.parts.mu.Unlock()
}

// snapshot returns a copy of the records sorted by ID, then by Start, so
// that a report does not depend on the order in which workers finished.
func (pl *partlist) snapshot() []Partition {
	pl.mu.Lock()
	out := append([]Partition{}, pl.list...)
	pl.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), a.Start.Compare(b.Start))
	})
	return out
}

// partitionsByStatus counts partitions by status, in the order of
// statuses, then any other status in order of appearance.
func partitionsByStatus(parts []Partition) (keys []Status, counts map[Status]int) {
	counts = make(map[Status]int)
	keys = slices.Clone(statuses[:])
	for _, p := range parts {
		if !slices.Contains(keys, p.Status) {
			keys = append(keys, p.Status)
		}
		counts[p.Status]++
	}
	return keys, counts
}

// statusLabel returns s for output, or "unknown" if s is "".
func statusLabel(s Status) string {
	if s == "" {
		return "unknown"
	}
	return string(s)
}
