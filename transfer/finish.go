package transfer

import (
	"context"
	"errors"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Finish ends a run that copied every chunk: with Options.Delete it removes
// the destination entries the source lacks, in every directory the source
// crawl read completely; then it sets directories' metadata, deepest first,
// since every create, rename or unlink inside a directory moves its mtime.
// Directories of one depth are done in parallel.
//
// When Options.BeforeDelete refuses the delete pass, only the directories
// this run wrote in get the source's metadata (the copy pass moved their
// mtimes); others are left as they are, and Finish returns the refusal.
func (c *Copier) Finish(ctx context.Context) error {
	var refused error
	if c.opt.Delete {
		err := c.deletePass(ctx)
		var se *refusal
		if !errors.As(err, &se) && err != nil {
			return err
		}
		refused = err
	}
	if c.opt.DryRun {
		return refused
	}
	levels := c.dirs.byDepth(func(r *dirRec) bool { return r.known && (r.created || r.dirty || (r.fix && refused == nil)) })
	return errors.Join(refused, c.eachDir(ctx, levels, c.fixDir))
}

// eachDir runs f on each directory, level by level, with the workers.
func (c *Copier) eachDir(ctx context.Context, levels [][]string, f func(w *worker, rel string) error) error {
	for _, level := range levels {
		g, ctx := errgroup.WithContext(ctx)
		var next atomic.Int64
		for range min(c.opt.Workers, len(level)) {
			g.Go(func() error {
				w := c.newWorker()
				defer w.close()
				for i := next.Add(1) - 1; i < int64(len(level)); i = next.Add(1) - 1 {
					if err := ctx.Err(); err != nil {
						return err
					}
					rel := level[i]
					if err := f(w, rel); err != nil {
						if fatal(err) {
							return &FatalError{Path: rel, Err: err}
						}
						c.opt.Reporter.Error(rel, err)
						if serr := c.opt.ErrorFunc(rel, err); serr != nil {
							return &stopError{serr}
						}
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// fixDir gives the destination directory rel the source's metadata.
func (c *Copier) fixDir(w *worker, rel string) error {
	fd, err := w.dst.open(rel)
	if err != nil {
		return wrapErr("open", rel, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return wrapErr("stat", rel, err)
	}
	r := c.dirs.get(rel)
	have, err := c.dstXattrs(at{fd: fd})
	if err != nil {
		return wrapErr("read xattrs of", rel, err)
	}
	d := diffMeta(&st, have, r.w, c.feat, &c.opt)
	if !d.any() {
		return nil
	}
	if !r.created && rel != "." && (d.owner || d.mode || d.xattrs) {
		c.itemizeDir(d, rel)
	}
	return wrapErr("set metadata of", rel, c.setMeta(at{fd: fd}, have, r.w, d))
}

func (c *Copier) itemizeDir(d metaDiff, rel string) {
	if c.opt.Itemize != nil {
		c.opt.Itemize(".d" + string(itemMeta(d)[1:]) + " " + rel + "/")
	}
}

// skipDevice counts a device that can't be made here, warning once.
func (c *Copier) skipDevice(rel string) {
	if c.skipped.Add(1) == 1 {
		c.opt.Logger.Warn("cannot make device files here; skipping them", "first", rel)
	}
}
