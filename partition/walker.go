package partition

import (
	"context"
	"path"

	"golang.org/x/sys/unix"
)

// Walker crawls one tree and cuts it into chunks. It is a stage: made by
// NewWalker, run once by Run.
type Walker struct {
	// config
	root  string
	opt   Options
	match *matcher
}

// NewWalker returns a Walker of the tree at root with opt. It checks the
// options and patterns; it does not touch root yet.
func NewWalker(root string, opt Options) (*Walker, error) {
	opt.applyDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	m, err := opt.Filter.compile()
	if err != nil {
		return nil, err
	}
	return &Walker{root: root, opt: opt, match: m}, nil
}

// Run crawls the tree, sends its chunks on out and closes out when it
// returns. In live mode (the default) chunks are sent while the crawl goes
// on, and the crawl waits while the consumer doesn't take them; with
// Options.Parts they are sent when it is over.
//
// Run returns an error, wrapped with the root's path, when the root can't
// be opened as a directory; ctx's error, untouched, when ctx is done; or
// the error of Options.ErrorFunc that stopped it. Errors met on entries
// below the root don't stop it: they are sent as error entries (see
// Entry.Err). Run starts Options.Walkers goroutines, which cut the chunks
// as they go; all have stopped when it returns. Run must be called once.
func (w *Walker) Run(ctx context.Context, out chan<- Chunk) error {
	defer close(out)
	dev, err := w.rootDev(ctx)
	if err != nil {
		return err
	}
	a := &assembler{opt: &w.opt, out: out}
	c := &crawl{ctx: ctx, root: w.root, opt: &w.opt, match: w.match, dev: dev, asm: a}
	if err := c.run(); err != nil {
		return err
	}
	return a.finish(ctx)
}

// rootDev opens the root to check that it is a readable directory, and
// returns its device. The crawl opens it again as its first directory.
func (w *Walker) rootDev(ctx context.Context) (uint64, error) {
	fs := w.opt.fs
	var fd int
	err := retry(ctx, w.opt.Retries, func() error {
		var err error
		fd, err = fs.openRoot(w.root)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, pathError("open", w.root, err)
	}
	defer fs.close(fd)
	var st unix.Stat_t
	if err := fs.fstat(fd, &st); err != nil {
		return 0, pathError("fstat", w.root, err)
	}
	return uint64(st.Dev), nil
}

// Skips reports whether the walker leaves the entry at rel out of its
// listing by its filter: a mirror must then not delete it at the
// destination either. isDir says whether the entry is a directory. It is
// safe for concurrent use.
func (w *Walker) Skips(rel string, isDir bool) bool {
	return w.match.skip(path.Base(rel), rel, isDir)
}
