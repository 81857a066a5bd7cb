package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// fileReport is one entry's report in progress: the kpi handle that counts
// its bytes, the outcome to book when it succeeds, and what Options.OnDone
// then gets: the entry as the destination now has it, and its hash.
type fileReport struct {
	f      *kpi.File
	o      kpi.Outcome
	e      *partition.Entry
	sum    [16]byte
	hashed bool
	x      xattrs // the source's, if xknown
	xknown bool
}

// errVanished marks a source entry gone since the crawl.
var errVanished = errors.New("vanished from the source")

// stopError carries the error with which ErrorFunc stopped the run.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// do runs f for the entry e, retrying transient errors, and books the
// outcome. It returns f's error: a *FatalError or a context error stops
// the run; a *stopError too, when ErrorFunc said so; any other is the
// entry's own failure, already reported.
func (w *worker) do(ctx context.Context, e *partition.Entry, f func(*fileReport) error) error {
	rel := e.Path
	r := &fileReport{f: w.c.opt.Reporter.StartFile(rel, e.Size), o: kpi.Unchanged, e: e}
	err := retry(ctx, w.c.opt.Retries, w.c.opt.Backoff, func() error { return f(r) })
	switch {
	case err == nil:
		r.f.Done(r.o, nil)
		if w.c.opt.OnDone != nil {
			w.c.opt.OnDone(Done{Entry: r.e, Outcome: r.o, Sum: r.sum, Hashed: r.hashed, Xattrs: r.x, XattrsRead: r.xknown})
		}
		return nil
	case errors.Is(err, errVanished):
		r.f.Done(kpi.Vanished, nil) // counted, not an error
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		r.f.Done(kpi.Failed, err)
		return err
	case fatal(err):
		r.f.Done(kpi.Failed, err)
		return &FatalError{Path: rel, Err: err}
	}
	r.f.Done(kpi.Failed, forKPI(err))
	w.c.opt.Logger.Warn("entry failed", "path", rel, "err", err)
	if serr := w.c.opt.ErrorFunc(rel, err); serr != nil {
		return &stopError{serr}
	}
	return err
}

// forKPI returns err as kpi should classify it. An ENOENT here is not the
// source's entry vanishing (that is errVanished, booked apart) but the
// destination changing under the copy, by another writer: a failure, which
// kpi would otherwise count as vanished.
func forKPI(err error) error {
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("destination changed during the copy: %v", err)
	}
	return err
}

// Done is an entry the copier has brought to match its source, or found
// matching: what Options.OnDone gets.
type Done struct {
	// Entry is the entry as the destination now has it: the crawl's, or
	// for a file copied, its source as read at the copy.
	Entry *partition.Entry
	// Outcome is what was done: kpi.Created, Updated, MetadataOnly,
	// HardLinked or Unchanged.
	Outcome kpi.Outcome
	// Sum is the xxh3-128 of a regular file's content, if Hashed: with
	// Options.Hash, for a file whose content was copied by reading it.
	Sum    [16]byte
	Hashed bool
	// Xattrs are the entry's extended attributes and ACLs (name to
	// value), if XattrsRead: the copier read them to compare or copy
	// them. It doesn't where they are off (Options.NoXattrs, a file system
	// without them, where Xattrs is nil) or, with Options.Settled, not
	// needed.
	Xattrs     map[string]string
	XattrsRead bool
}
