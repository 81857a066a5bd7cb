package latencyfs

import "sync/atomic"

// counters counts operations and bytes. It is safe for concurrent use:
// every field is atomic, so that counting never serializes the parallel
// requests it measures.
type counters struct {
	ops           map[string]*atomic.Int64 // fixed at construction, read-only map
	read, written atomic.Int64
	writing       atomic.Int64 // write calls in flight
	maxWriting    atomic.Int64 // the most writing has been since the reset
}

func newCounters() *counters {
	c := &counters{ops: make(map[string]*atomic.Int64, len(opNames))}
	for _, op := range opNames {
		c.ops[op] = new(atomic.Int64)
	}
	return c
}

// add counts one call of op. op MUST be one of opNames.
func (c *counters) add(op string) { c.ops[op].Add(1) }

func (c *counters) addRead(n int)    { c.read.Add(int64(n)) }
func (c *counters) addWritten(n int) { c.written.Add(int64(n)) }

// startWrite counts a write call in flight until the returned func is
// called, and raises the maximum.
func (c *counters) startWrite() (done func()) {
	n := c.writing.Add(1)
	for {
		m := c.maxWriting.Load()
		if n <= m || c.maxWriting.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { c.writing.Add(-1) }
}

// snapshot returns the counts; operations that ran concurrently may or may
// not be included.
func (c *counters) snapshot() Counts {
	out := Counts{
		Ops:               map[string]int64{},
		BytesRead:         c.read.Load(),
		BytesWritten:      c.written.Load(),
		MaxWritesInFlight: c.maxWriting.Load(),
	}
	for op, n := range c.ops {
		if v := n.Load(); v != 0 {
			out.Ops[op] = v
		}
	}
	return out
}

// reset sets every counter to zero. The writes in flight stay counted, as
// they still end.
func (c *counters) reset() {
	for _, n := range c.ops {
		n.Store(0)
	}
	c.read.Store(0)
	c.written.Store(0)
	c.maxWriting.Store(0)
}
