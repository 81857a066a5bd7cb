package partition

import (
	"golang.org/x/sys/unix"
)

// children turns the names in r.ents, read from the directory fd whose
// entry is dir, into a batch (dir's entry first, then its children but
// subdirectories) and the names of the subdirectories to read. Filtered
// names are left out before any call is made for them, where the
// directory gave their type.
func (c *crawl) children(fd int, dir Entry, r *reader) ([]string, []Entry, error) {
	rel, nkids := dir.Path, 0
	for _, d := range r.ents {
		if d.typ == unix.S_IFDIR {
			nkids++
		}
	}
	kids := make([]string, 0, nkids) // exact: they wait in the sched until read
	batch := append(r.batch[:0], dir)
	for _, d := range r.ents {
		crel := join(rel, d.name)
		if d.typ == unix.S_IFDIR {
			if !c.match.skip(d.name, crel, true) {
				kids = append(kids, d.name)
			}
			continue
		}
		if d.typ != 0 && c.match.skip(d.name, crel, false) {
			continue
		}
		e, ok, err := c.stat(fd, d, crel, &r.st)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		dir := e.IsDir() && e.Err == nil
		if d.typ == 0 && c.match.skip(d.name, crel, dir) {
			continue
		}
		if dir { // no type from the directory, or a race: it is one now
			kids = append(kids, d.name)
			continue
		}
		batch = append(batch, e)
	}
	r.batch = batch
	return kids, batch, nil
}

// stat returns the entry of d in the directory fd, its symlink target
// read if asked; st is scratch space. ok is false when it vanished. A
// failure after retries gives an error entry (typed from d if the
// directory gave a type); the error returned is the ErrorFunc's verdict.
func (c *crawl) stat(fd int, d dirent, rel string, st *unix.Stat_t) (e Entry, ok bool, err error) {
	err = retry(c.ctx, c.opt.Retries, func() error { return c.opt.fs.statAt(fd, d.name, st) })
	switch {
	case err != nil && c.ctx.Err() != nil:
		return Entry{}, false, c.ctx.Err()
	case err != nil && vanished(err):
		c.vanish(rel)
		return Entry{}, false, nil
	case err != nil:
		e = Entry{Path: rel, Mode: d.typ, Err: pathError("lstat", rel, err)}
		return e, true, c.report(&e)
	}
	e = fromStat(rel, st)
	if !c.opt.ReadLinks || !e.IsSymlink() {
		return e, true, nil
	}
	err = retry(c.ctx, c.opt.Retries, func() error {
		var lerr error
		e.Target, lerr = c.opt.fs.readlinkAt(fd, d.name)
		return lerr
	})
	switch {
	case err != nil && c.ctx.Err() != nil:
		return Entry{}, false, c.ctx.Err()
	case err != nil && vanished(err):
		c.vanish(rel)
		return Entry{}, false, nil
	case err != nil:
		e.Err = pathError("readlink", rel, err)
		return e, true, c.report(&e)
	}
	return e, true, nil
}
