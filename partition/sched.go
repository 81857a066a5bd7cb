package partition

import (
	"slices"
	"sync"
)

// span is part of a directory's subdirectories waiting to be read:
// h.subdirs[lo:hi].
type span struct {
	h      *dirHandle
	lo, hi int
}

// sched holds the directories waiting to be read: one stack per walker,
// of spans, each the subdirectories of one directory. A walker works
// depth first from its own top span and, when its stack is empty, steals
// from the span at the bottom of another (the one nearest the root, so
// likely the biggest subtrees). Depth first keeps the waiting names at
// about depth × fan-out, not the width of the tree as a breadth-first
// queue would, and a directory of many subdirectories costs one span and
// its names, not a job each. The bounded batch channel stalls every
// walker when the consumer of the chunks falls behind (backpressure).
//
// One mutex guards all stacks: it is taken twice per directory, while a
// directory costs several system calls, so it is not the bottleneck.
type sched struct {
	mu      sync.Mutex
	cond    sync.Cond
	stacks  [][]span
	root    bool // the root waits to be read
	pending int  // directories waiting or being read
	stopped bool // no more pops: canceled or failed
}

// newSched returns a scheduler for n walkers, with the root to read.
func newSched(n int) *sched {
	s := &sched{stacks: make([][]span, n), root: true, pending: 1}
	s.cond.L = &s.mu
	return s
}

// pop returns walker i's next directory. It waits while other walkers may
// still push some, and returns false when every directory is done or the
// crawl was stopped.
func (s *sched) pop(i int) (dirJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.stopped && s.pending > 0 {
		if s.root {
			s.root = false
			return dirJob{}, true
		}
		if own := s.stacks[i]; len(own) > 0 {
			sp := &own[len(own)-1]
			j := dirJob{parent: sp.h, name: sp.take(sp.lo)}
			sp.lo++
			sp.compact()
			if sp.lo == sp.hi {
				own[len(own)-1] = span{}
				s.stacks[i] = trim(own[:len(own)-1])
			}
			return j, true
		}
		if v := s.victim(); v >= 0 {
			st := s.stacks[v]
			sp := &st[0]
			sp.hi--
			j := dirJob{parent: sp.h, name: sp.take(sp.hi)}
			sp.compact()
			if sp.lo == sp.hi {
				st[0] = span{}
				s.stacks[v] = trim(st[1:])
			}
			return j, true
		}
		s.cond.Wait()
	}
	return dirJob{}, false
}

// take returns the name at k, and forgets it.
func (sp *span) take(k int) string {
	name := sp.h.subdirs[k]
	sp.h.subdirs[k] = ""
	return name
}

// compact moves the names left to a smaller array once they fill a quarter
// of theirs, so that the names of a directory of many subdirectories go as
// they are read; and drops them all when none is left.
func (sp *span) compact() {
	names := sp.h.subdirs
	switch {
	case sp.lo == sp.hi:
		sp.h.subdirs = nil
	case cap(names) > 256 && sp.hi-sp.lo <= cap(names)/4:
		sp.h.subdirs = slices.Clone(names[sp.lo:sp.hi])
		sp.lo, sp.hi = 0, sp.hi-sp.lo
	}
}

// trim returns st in a smaller array once it uses a quarter of a big one.
func trim(st []span) []span {
	if cap(st) > 64 && len(st) < cap(st)/4 {
		return slices.Clone(st)
	}
	return st
}

// victim returns the walker whose bottom span holds the most names, -1 if
// all stacks are empty.
func (s *sched) victim() int {
	v, most := -1, 0
	for k, st := range s.stacks {
		if len(st) > 0 && st[0].hi-st[0].lo > most {
			v, most = k, st[0].hi-st[0].lo
		}
	}
	return v
}

// done ends walker i's current directory and pushes h's subdirectories, if
// h is not nil, so that walker i reads them next.
func (s *sched) done(i int, h *dirHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if h != nil {
		n = len(h.subdirs)
		s.stacks[i] = append(s.stacks[i], span{h: h, hi: n})
	}
	s.pending += n - 1
	if n > 0 || s.pending == 0 {
		s.cond.Broadcast()
	}
}

// stop makes every pop return false.
func (s *sched) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.cond.Broadcast()
}

// drain removes and returns the spans left after a stop.
func (s *sched) drain() []span {
	s.mu.Lock()
	defer s.mu.Unlock()
	var left []span
	for i, st := range s.stacks {
		left = append(left, st...)
		s.stacks[i] = nil
	}
	return left
}
