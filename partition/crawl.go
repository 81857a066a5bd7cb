package partition

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// bufSize is each walker's getdents buffer: 32 times godirwalk's default
// of one page, so that a directory of about 4,000 entries takes one call.
const bufSize = 128 << 10

// dirJob is a directory waiting to be read: name, in its parent's open
// directory.
type dirJob struct {
	parent *dirHandle // nil for the root
	name   string
}

// rel returns the job's path relative to the root.
func (j *dirJob) rel() string {
	if j.parent == nil {
		return "."
	}
	return join(j.parent.rel, j.name)
}

// join returns the relative path of name in the directory at rel.
func join(rel, name string) string {
	if rel == "." {
		return name
	}
	return rel + "/" + name
}

// dirHandle is an open directory whose subdirectories wait to be opened
// relative to it. The last of them to be done with it closes it, so a
// directory stays open only while its subdirectories wait.
type dirHandle struct {
	fd      int
	rel     string
	refs    atomic.Int64
	subdirs []string // names of the subdirectories; owned by sched
}

// release drops one reference to h, closing it with the last; a nil h is
// a no-op. It is safe for concurrent use.
func (h *dirHandle) release(fs dirFS) {
	if h != nil && h.refs.Add(-1) == 0 {
		fs.close(h.fd) // read-only: nothing to lose
	}
}

// crawl is one parallel crawl: Options.Walkers goroutines reading
// directories from a sched and adding each directory's entries to the
// assembler as one batch.
type crawl struct {
	// config
	ctx   context.Context
	root  string
	opt   *Options
	match *matcher
	dev   uint64 // the root's device, for OneFileSystem
	asm   *assembler

	// state
	sched *sched
}

// reader is a walker's reusable memory. Reusing st matters: a Stat_t
// passed through the dirFS interface escapes, one allocation per entry;
// and batch, since the assembler copies entries out of it.
type reader struct {
	buf   []byte
	ents  []dirent
	batch []Entry
	st    unix.Stat_t
}

// maxKeptEnts is the most names a reader keeps room for between
// directories: after a bigger one, it lets the memory go.
const maxKeptEnts = 4096

// shrink drops r's names, and their room if a big directory made it grow.
func (r *reader) shrink() {
	clear(r.ents)
	r.ents = r.ents[:0]
	if cap(r.ents) > maxKeptEnts {
		r.ents = nil
	}
	clear(r.batch)
	r.batch = r.batch[:0]
	if cap(r.batch) > maxKeptEnts {
		r.batch = nil
	}
}

// run runs the walkers until every directory is read, ctx is done or one
// fails, closes every directory left open, and returns the first error.
func (c *crawl) run() error {
	c.sched = newSched(c.opt.Walkers)
	stop := context.AfterFunc(c.ctx, c.sched.stop)
	defer stop()
	var g errgroup.Group
	for i := range c.opt.Walkers {
		g.Go(func() error {
			err := c.walk(i)
			if err != nil {
				c.sched.stop()
			}
			return err
		})
	}
	err := g.Wait()
	for _, sp := range c.sched.drain() {
		for range sp.hi - sp.lo {
			sp.h.release(c.opt.fs)
		}
	}
	if err == nil {
		err = c.ctx.Err()
	}
	return err
}

// walk is walker i: it reads directories until there are none left.
func (c *crawl) walk(i int) error {
	r := &reader{}
	for {
		j, ok := c.sched.pop(i)
		if !ok {
			return nil
		}
		if r.buf == nil { // not before there is work: walkers idle while the root is read
			r.buf = make([]byte, bufSize)
		}
		h, err := c.dir(j, r)
		r.shrink()
		c.sched.done(i, h)
		if err != nil {
			return err
		}
	}
}

// dir reads the directory of j, sends its own entry and its other
// children's as one batch, and returns it, open, if it has subdirectories
// to read. Only a complete read is sent: after a failure the directory
// goes out alone, as an error entry, so no entry is ever sent twice.
func (c *crawl) dir(j dirJob, r *reader) (*dirHandle, error) {
	rel := j.rel()
	defer j.parent.release(c.opt.fs) // after any retry: reopening needs it
	fd, e, op, err := c.load(j, rel, r)
	if err != nil {
		return nil, c.failed(j, rel, e, op, err)
	}
	subdirs, batch, err := c.children(fd, e, r)
	if err == nil {
		err = c.send(batch)
	}
	if err != nil || len(subdirs) == 0 {
		c.opt.fs.close(fd)
		return nil, err
	}
	h := &dirHandle{fd: fd, rel: rel, subdirs: subdirs}
	h.refs.Store(int64(len(subdirs)))
	return h, nil
}

// load opens, stats and lists the directory of j into r.ents. After a
// transient error it starts again with a new open, up to Options.Retries
// times. It returns the open fd, the directory's entry, and on failure the
// failed operation and its error (and the entry, if the fstat worked).
func (c *crawl) load(j dirJob, rel string, r *reader) (fd int, e Entry, op string, err error) {
	err = retry(c.ctx, c.opt.Retries, func() error {
		fd, e, op, err = c.loadOnce(j, rel, r)
		return err
	})
	return fd, e, op, err
}

func (c *crawl) loadOnce(j dirJob, rel string, r *reader) (int, Entry, string, error) {
	fs := c.opt.fs
	r.shrink() // a retry starts from no names
	var fd int
	var err error
	if j.parent == nil {
		fd, err = fs.openRoot(c.root)
	} else {
		fd, err = fs.openAt(j.parent.fd, j.name)
	}
	if err != nil {
		return -1, Entry{}, "open", err
	}
	if err := fs.fstat(fd, &r.st); err != nil {
		fs.close(fd)
		return -1, Entry{}, "fstat", err
	}
	e := fromStat(rel, &r.st)
	if c.opt.OneFileSystem && e.Dev != c.dev {
		return fd, e, "", nil // a mount point: listed, not read, like fpart -b
	}
	if r.ents, err = fs.readDir(fd, filepath.Join(c.root, filepath.FromSlash(rel)), r.buf, r.ents); err != nil {
		fs.close(fd)
		return -1, e, "getdents", err
	}
	return fd, e, "", nil
}

// failed handles a directory that could not be read: gone (counted, no
// entry), no longer a directory (listed as what it is now), or else sent
// alone as an error entry with what is known of it.
func (c *crawl) failed(j dirJob, rel string, e Entry, op string, err error) error {
	if cerr := c.ctx.Err(); cerr != nil {
		return cerr // canceled: not the directory's fault
	}
	if j.parent != nil && vanished(err) {
		c.vanish(rel)
		return nil
	}
	if j.parent != nil && op == "open" && (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) {
		var st unix.Stat_t
		ne, ok, err := c.stat(j.parent.fd, dirent{name: j.name}, rel, &st)
		if !ok || err != nil {
			return err
		}
		return c.send([]Entry{ne})
	}
	if e.Path == "" {
		e = Entry{Path: rel, Mode: unix.S_IFDIR}
		var st unix.Stat_t
		if j.parent != nil && c.opt.fs.statAt(j.parent.fd, j.name, &st) == nil {
			e = fromStat(rel, &st) // best effort: the copier wants its metadata
		}
	}
	e.Err = pathError(op, rel, err)
	if err := c.report(&e); err != nil {
		return err
	}
	return c.send([]Entry{e})
}

// send adds batch to the chunks, or returns ctx's error.
func (c *crawl) send(batch []Entry) error { return c.asm.add(c.ctx, batch) }

// report reports e's error and asks Options.ErrorFunc whether to go on.
func (c *crawl) report(e *Entry) error {
	if c.opt.Reporter != nil {
		c.opt.Reporter.Error(e.Path, e.Err)
	}
	if c.opt.ErrorFunc != nil {
		return c.opt.ErrorFunc(e.Path, e.Err)
	}
	return nil
}

// vanish reports the entry at rel as gone.
func (c *crawl) vanish(rel string) {
	if c.opt.Reporter != nil {
		c.opt.Reporter.Vanished(rel)
	}
}
