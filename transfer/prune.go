package transfer

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// doomed is one destination entry the delete pass will remove: the name
// in the directory dir, and how many entries go with it (a directory
// counts with everything under it).
type doomed struct {
	dir, name string
	count     int64
}

// deletePlan collects, across workers, what the delete pass will remove.
type deletePlan struct {
	mu    sync.Mutex
	items []doomed
	total int64
}

func (p *deletePlan) add(d doomed) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items = append(p.items, d)
	p.total += d.count
}

// byDir groups the plan's items by their directory, for removal in
// parallel, a directory per worker.
func (p *deletePlan) byDir() [][]doomed {
	idx := map[string]int{}
	var out [][]doomed
	for _, d := range p.items {
		i, ok := idx[d.dir]
		if !ok {
			i = len(out)
			idx[d.dir] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], d)
	}
	return out
}

// refusal is BeforeDelete's error: the delete pass removed nothing.
type refusal struct{ err error }

func (e *refusal) Error() string { return "delete pass refused: " + e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// deletePass removes the destination entries the source lacks. It first
// plans every removal, so that Options.BeforeDelete can refuse the pass
// (too many deletions: a source that lost its mount, say) before anything
// is removed.
func (c *Copier) deletePass(ctx context.Context) error {
	levels := c.dirs.byDepth(func(r *dirRec) bool { return r.known })
	plan := &deletePlan{}
	if err := c.eachDir(ctx, levels, func(w *worker, rel string) error { return c.planPrune(w, rel, plan) }); err != nil {
		return err
	}
	if c.opt.BeforeDelete != nil {
		if err := c.opt.BeforeDelete(plan.total); err != nil {
			return &refusal{err}
		}
	}
	groups := plan.byDir()
	dirs := make([]string, len(groups))
	for i, g := range groups {
		dirs[i] = g[0].dir
	}
	byName := make(map[string][]doomed, len(groups))
	for _, g := range groups {
		byName[g[0].dir] = g
	}
	return c.eachDir(ctx, [][]string{dirs}, func(w *worker, rel string) error { return c.prune(w, rel, byName[rel]) })
}

// planPrune adds to plan every entry of the destination directory rel
// that the source directory lacks, unless the source was not read
// completely there.
func (c *Copier) planPrune(w *worker, rel string, plan *deletePlan) error {
	if !c.dirs.complete(rel) {
		return nil
	}
	r := c.dirs.get(rel)
	names := r.dstNames // listed when a worker first opened it
	if !r.listed {
		fd, err := w.dst.open(rel)
		if errors.Is(err, errAbsent) {
			return nil
		}
		if err != nil {
			return wrapErr("open", rel, err)
		}
		if r = c.dirs.get(rel); r.listed { // by that open
			names = r.dstNames
		} else if names, err = readNames(fd); err != nil {
			return wrapErr("list", rel, err)
		}
	}
	for _, name := range names {
		p := join(rel, name)
		if _, ok := r.names[name]; ok || c.opt.Protect(p) {
			continue
		}
		n := int64(1)
		if c.opt.BeforeDelete != nil {
			fd, err := w.dst.open(rel)
			if err == nil {
				n, err = countTree(fd, name)
			}
			if err != nil {
				return wrapErr("count", p, err)
			}
		}
		plan.add(doomed{dir: rel, name: name, count: n})
	}
	return nil
}

// prune removes the planned entries of the destination directory rel.
func (c *Copier) prune(w *worker, rel string, items []doomed) error {
	fd, err := w.dst.open(rel)
	if err != nil {
		return wrapErr("open", rel, err)
	}
	for _, d := range items {
		p := join(rel, d.name)
		if c.opt.Itemize != nil {
			c.opt.Itemize("*deleting   " + p)
		}
		if c.opt.DryRun {
			continue
		}
		if err := c.remove(fd, p, d.name); err != nil {
			return err
		}
	}
	return nil
}

// countTree returns how many entries the entry name in the directory fd
// holds, itself included, without following symlinks.
func countTree(fd int, name string) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, nil
		}
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 1, nil
	}
	sub, err := unix.Openat(fd, name, dirFlags, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(sub)
	names, err := readNames(sub)
	if err != nil {
		return 0, err
	}
	n := int64(1)
	for _, child := range names {
		k, err := countTree(sub, child)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}
