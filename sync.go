package efsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
)

// Sync makes the contents of dst match those of src, the way fpsync treats
// its paths: a trailing slash changes nothing. It crawls src in parallel,
// streams the chunks to the copy workers while the crawl goes on, and, with
// Options.Delete, then removes what src lacks. Each run is journaled under
// Options.StateDir, so that Options.Resume can replay what it left undone.
// It returns the run's report in every case but bad input.
//
// The error is nil when the pass completed, even if some entries failed
// (the report's status is then Partial and lists them); a *UsageError for
// bad input, before anything is touched; ErrUnsafeSource when a guard
// refuses the source, ErrTooManyDeletes when the delete pass would remove
// more than allowed (Failed, nothing deleted); ctx's error when ctx or
// Options.Deadline stopped the run (Incomplete); otherwise what made it
// fail.
func Sync(ctx context.Context, src, dst string, opts ...Option) (*kpi.Report, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	o.applyDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	src, dst, err := checkPaths(src, dst, o.DryRun)
	if err != nil {
		return nil, err
	}
	e, err := newEngine(src, dst, &o)
	if err != nil {
		return nil, err
	}
	defer e.close()
	return e.run(ctx)
}

// engine is one Sync: its paths, its state, its counters.
type engine struct {
	src, dst string // as given, cleaned
	o        *Options
	pair     *pairState      // nil in a dry run
	resume   *RunInfo        // the run to resume, if any
	stateRel string          // the state directory relative to dst, if inside it
	skipSrc  string          // a path the crawl leaves out: the state, if in a tree
	settled  transfer.Clock  // when a pass last found every entry equal
	dirty    *dirtyLog       // files being rewritten in place, in the journal
	recheck  map[string]bool // files a crashed run left part written
	partial  *partials       // huge copies to resume; nil in a dry run
	clock    transfer.Clock  // when this run's full pass began
}

// newEngine takes the pair's state; it refuses, as bad input, a state
// another run holds and a run to resume that doesn't exist.
func newEngine(src, dst string, o *Options) (*engine, error) {
	e := &engine{src: src, dst: dst, o: o}
	root, err := stateRoot(o.StateDir)
	if err != nil {
		return nil, &UsageError{err}
	}
	rs, rd, err := absPair(src, dst)
	if err != nil {
		return nil, &UsageError{err}
	}
	if rel, ok := within(rs, root); ok {
		e.skipSrc = rel // state is not data
	}
	if rel, ok := within(rd, root); ok {
		e.stateRel, e.skipSrc = rel, rel // neither copied over nor deleted
	}
	if o.DryRun {
		if o.Resume != "" {
			return nil, usage("a dry run can't resume a run")
		}
		return e, nil
	}
	if e.pair, err = openPair(root, rs, rd); err != nil {
		return nil, &UsageError{err}
	}
	if o.Resume != "" {
		info, err := loadRun(filepath.Join(e.pair.dir, "runs", o.Resume), true)
		if err != nil {
			e.close()
			return nil, usage("resume %s: no such run of %s to %s", o.Resume, src, dst)
		}
		e.resume = &info
	}
	return e, nil
}

func (e *engine) close() {
	if e.pair != nil {
		e.pair.close()
	}
}

// within returns p relative to base, if p is base or under it.
func within(base, p string) (string, bool) {
	rel, err := filepath.Rel(base, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// run runs the engine: guards, then a replay of the run to resume, then a
// full pass unless the replay finished that run's pass.
func (e *engine) run(ctx context.Context) (*kpi.Report, error) {
	o := e.o
	start := time.Now()
	id := newRunID(start)
	if e.resume != nil {
		id = e.resume.ID
	}
	counters := kpi.New(kpi.Options{RunID: id, Source: e.src, Destination: e.dst})
	if err := guard(e.src, o); err != nil { // before anything touches dst
		return e.refused(counters, err)
	}
	var j *journal
	if e.pair != nil {
		e.partial = openPartials(e.pair.dir, o.Logger)
		if err := e.cleanKilled(ctx); err != nil {
			return nil, err
		}
		var err error
		if e.resume != nil {
			j, err = reopenJournal(filepath.Join(e.pair.dir, "runs", id))
		} else {
			j, err = createJournal(e.pair, id, e.src, e.dst, start)
		}
		if err != nil {
			return nil, err
		}
		if o.InPlace {
			if e.dirty, err = openDirty(j.dir); err != nil {
				return nil, err
			}
			defer e.dirty.close()
		}
	}
	stopProgress := startProgress(o, counters)
	failed, err := e.passes(ctx, j, counters)
	stopProgress()
	// Errors that no entry carries (a directory's metadata in Finish, say)
	// make a run Partial too.
	counters.Finish(statusOf(err, max(failed, int(counters.Report().Errors.Total))))
	r := counters.Report()
	if j != nil {
		if jerr := j.end(&r); jerr != nil {
			o.Logger.Warn("journal", "err", jerr)
		}
	}
	return &r, err
}

// refused ends a run that a guard refused, without a journal: it did
// nothing.
func (e *engine) refused(counters *kpi.Counters, err error) (*kpi.Report, error) {
	counters.Finish(statusOf(err, 0))
	r := counters.Report()
	return &r, err
}

// passes does the work of run, and returns how many entries failed.
func (e *engine) passes(ctx context.Context, j *journal, counters *kpi.Counters) (int, error) {
	o := e.o
	if !o.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, o.Deadline)
		defer cancel()
	}
	if !o.DryRun {
		if err := os.Mkdir(e.dst, 0o700); err != nil && !os.IsExist(err) {
			return 0, fmt.Errorf("create destination: %w", err)
		}
	}
	hard, abort := hardStop(ctx, o.Grace, o.Abort)
	defer abort()
	e.settled = e.loadSettled()
	failed, base := 0, 0
	if r := e.resume; r != nil {
		n, err := e.replay(ctx, hard, j, counters, append(r.FailedChunks, r.PendingChunks...))
		failed += n
		if err != nil || ctx.Err() != nil || (r.Crawled && r.Finished) {
			return failed, errors.Join(err, ctx.Err())
		}
		base = r.next
	}
	n, err := e.full(ctx, hard, j, counters, base)
	if err == nil && failed+n == 0 && counters.Report().Errors.Total == 0 {
		if serr := e.saveSettled(counters.Report().RunID, e.clock); serr != nil {
			o.Logger.Warn("state", "err", serr) // the next run reads every xattr: no harm
		}
		if e.pair != nil && len(e.recheck) > 0 {
			clearDirty(e.pair.dir, counters.Report().RunID)
		}
		if e.partial != nil {
			if perr := e.partial.clear(ctx, e.dst); perr != nil {
				o.Logger.Warn("stale partial copies", "err", perr) // tried again next time
			}
		}
	}
	return failed + n, err
}

// full is a full pass: crawl, copy, then Finish (the delete pass and the
// directories' metadata), unless the run was stopped.
func (e *engine) full(ctx, hard context.Context, j *journal, counters *kpi.Counters, base int) (int, error) {
	o := e.o
	w, err := partition.NewWalker(e.src, partition.Options{Walkers: o.Walkers, MaxFiles: o.MaxFiles,
		MaxBytes: o.MaxBytes, Filter: e.filter(), OneFileSystem: o.OneFileSystem,
		ReadLinks: true, Reporter: vanishedOnly{counters}})
	if err != nil {
		return 0, &UsageError{err}
	}
	c, err := e.copier(hard, counters, o.Delete, func(rel string) bool { return w.Skips(rel, false) })
	if err != nil {
		return 0, err
	}
	defer c.Close()
	e.clock = c.Clock()
	crawl := func(ctx context.Context, out chan<- partition.Chunk) error {
		defer counters.StartPhase("crawl")() // its end tells progress the total
		return w.Run(ctx, out)
	}
	var groups []string
	stopCopy := counters.StartPhase("copy")
	var failed int
	var complete bool
	if o.Queue != nil {
		l := &leader{e: e, j: j, counters: counters, c: c, hard: hard, idBase: base}
		if o.groupsFile != "" {
			l.groups = &groups
		}
		complete, err = l.Run(ctx, crawl)
		failed = l.failed
	} else {
		p := &pass{o: o, counters: counters, j: j, c: c, hard: hard, idBase: base}
		if o.groupsFile != "" {
			p.groups = &groups
		}
		complete, err = p.Run(ctx, crawl)
		failed = p.failed
	}
	stopCopy()
	if err != nil || !complete {
		return failed, errors.Join(err, ctx.Err())
	}
	if err := j.event("crawled"); err != nil {
		return failed, err
	}
	defer counters.StartPhase("finish")()
	if err := c.Finish(ctx); err != nil {
		return failed, err
	}
	if o.groupsFile != "" {
		if err := writeList(o.groupsFile, groups); err != nil {
			return failed, err
		}
	}
	return failed, j.event("finished")
}

// vanishedOnly passes the crawl's vanished entries to kpi but not its
// errors: those arrive at the copier as error entries, which books them.
type vanishedOnly struct{ c *kpi.Counters }

func (v vanishedOnly) Vanished(rel string) { v.c.Vanished(rel) }
func (vanishedOnly) Error(string, error)   {}
