package latencyfs

import (
	"path"
	"slices"
	"sync"
	"sync/atomic"
)

// faultSet holds the faults of a mount and how often each was applied. It
// is safe for concurrent use; set replaces the list while requests run.
type faultSet struct {
	// any is len(list) > 0, read without the lock so that a mount
	// without faults never takes it, and computes no paths.
	any atomic.Bool

	mu   sync.Mutex
	list []Fault
	used []int // used[i]: times list[i] was applied, for Fault.Times
}

// set replaces the faults and forgets how often the old ones applied.
func (s *faultSet) set(list []Fault) error {
	if err := validate(list); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.Clone(list)
	s.used = make([]int, len(list))
	s.any.Store(len(list) > 0)
	return nil
}

// active reports whether any fault is set.
func (s *faultSet) active() bool { return s.any.Load() }

// match returns the first fault that matches op on one of rels (slash paths
// relative to the root) and, for writes, end (offset + length), and counts
// it as applied. It returns the zero Fault (no error, no delay) if none
// matches. A fault whose Times ran out no longer matches, so that a later
// fault in the list can.
func (s *faultSet) match(op string, rels []string, end int64) Fault {
	if !s.active() {
		return Fault{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.list {
		if !f.matches(op, rels, end) {
			continue
		}
		if f.Times > 0 {
			if s.used[i] >= f.Times {
				continue
			}
			s.used[i]++
		}
		return f
	}
	return Fault{}
}

// matches reports whether f applies to op on one of rels, ignoring Times.
func (f Fault) matches(op string, rels []string, end int64) bool {
	if f.Op != "" && f.Op != op {
		return false
	}
	if f.AfterBytes > 0 && (op != "write" || end <= f.AfterBytes) {
		return false
	}
	if f.Path == "" {
		return true
	}
	if f.NewPath && (op == "link" || op == "rename") {
		rels = rels[len(rels)-1:] // link's and rename's new name is last
	}
	for _, rel := range rels {
		if ok, _ := path.Match(f.Path, rel); ok { // the pattern was validated by set
			return true
		}
	}
	return false
}
