package transfer

import (
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// dirRec is what Finish needs to know of one destination directory.
type dirRec struct {
	w       want
	known   bool // the source's entry for it was seen: w is valid
	created bool // made by this run
	dirty   bool // entries were added, removed or renamed in it: its mtime moved
	fix     bool // its metadata differs from the source's
	// names are the source's entries in it, for the delete pass.
	names map[string]struct{}
	// dstNames are the destination's entries in it as first opened, before
	// this run changed it, when listed is set (see Copier.listDst).
	dstNames []string
	listed   bool
	claimed  bool // a worker is listing it or did
}

// dirSet records, across workers, the directories Finish must visit, and
// the source directories not read completely. It is safe for concurrent
// use.
type dirSet struct {
	mu         sync.Mutex
	m          map[string]*dirRec
	incomplete []string
}

func newDirSet() *dirSet { return &dirSet{m: map[string]*dirRec{}} }

func (s *dirSet) rec(rel string) *dirRec {
	r := s.m[rel]
	if r == nil {
		r = &dirRec{}
		s.m[rel] = r
	}
	return r
}

func (s *dirSet) update(rel string, f func(r *dirRec)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.rec(rel))
}

func (s *dirSet) created(rel string) { s.update(rel, func(r *dirRec) { r.created = true }) }
func (s *dirSet) dirty(rel string)   { s.update(rel, func(r *dirRec) { r.dirty = true }) }
func (s *dirSet) fix(rel string)     { s.update(rel, func(r *dirRec) { r.fix = true }) }

// source records the source's metadata for directory rel.
func (s *dirSet) source(rel string, w want, differs bool) {
	s.update(rel, func(r *dirRec) { r.w, r.known, r.fix = w, true, r.fix || differs })
}

// name records that the source directory dir holds name.
func (s *dirSet) name(dir, name string) {
	s.update(dir, func(r *dirRec) {
		if r.names == nil {
			r.names = map[string]struct{}{}
		}
		r.names[name] = struct{}{}
	})
}

// claim reports whether the caller is the first to ask for directory rel:
// it then lists it, once per run.
func (s *dirSet) claim(rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec(rel)
	ok := !r.claimed
	r.claimed = true
	return ok
}

// listed records the destination's names in directory rel.
func (s *dirSet) setListed(rel string, names []string) {
	s.update(rel, func(r *dirRec) { r.dstNames, r.listed = names, true })
}

// unlist forgets the destination's names in directory rel, so that the
// delete pass lists it again: other copiers write in it meanwhile.
func (s *dirSet) unlist(rel string) {
	s.update(rel, func(r *dirRec) { r.dstNames, r.listed = nil, false })
}

// markIncomplete records that the source at and under rel is not fully
// known, so nothing there may be deleted.
func (s *dirSet) markIncomplete(rel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incomplete = append(s.incomplete, rel)
}

// complete reports whether the source directory rel was read completely,
// and none of its ancestors failed.
func (s *dirSet) complete(rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bad := range s.incomplete {
		if under(rel, bad) {
			return false
		}
	}
	return true
}

// byDepth returns the directories that need pick, deepest first, in
// levels: directories of one level can be done in parallel.
func (s *dirSet) byDepth(pick func(r *dirRec) bool) [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rels []string
	for rel, r := range s.m {
		if pick(r) {
			rels = append(rels, rel)
		}
	}
	depth := func(rel string) int {
		if rel == "." {
			return 0
		}
		return strings.Count(rel, "/") + 1
	}
	sort.Slice(rels, func(i, j int) bool { return depth(rels[i]) > depth(rels[j]) })
	var levels [][]string
	for i := 0; i < len(rels); {
		j := i
		for j < len(rels) && depth(rels[j]) == depth(rels[i]) {
			j++
		}
		levels = append(levels, rels[i:j])
		i = j
	}
	return levels
}

func (s *dirSet) get(rel string) dirRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.rec(rel)
}

// writable makes the destination directory fd writable by its owner while
// the run fills it, when this process is not root (root writes anyway); the
// directory's own mode comes back in Finish. A dry run changes nothing.
func (c *Copier) writable(fd int, rel string) error {
	if c.feat.owner || c.opt.DryRun {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&0o700 == 0o700 {
		return nil
	}
	c.dirs.fix(rel)
	return unix.Fchmod(fd, st.Mode&0o7777|0o700)
}
