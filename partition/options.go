package partition

import (
	"errors"
	"fmt"
)

// Defaults of Options, those of fpsync where it has one.
const (
	DefaultWalkers  = 16      // directories read at once: on EFS, calls in flight are what counts
	DefaultMaxFiles = 2000    // like fpsync -f
	DefaultMaxBytes = 4 << 30 // like fpsync -s: 4 GiB
	DefaultRetries  = 3       // extra attempts at a directory after a transient error
)

// Reporter receives what the crawl counts. *kpi.Counters satisfies it; a
// nil Reporter counts nothing. Its methods MUST be safe for concurrent use:
// walkers call them in parallel.
//
// Entries found are not reported here: the consumer of the chunks counts
// them (kpi.Counters.Scanned), which keeps this package free of kpi's
// types.
type Reporter interface {
	// Error is called once for each error entry, with its path and error.
	Error(rel string, err error)
	// Vanished is called for each entry listed by a directory read but
	// gone (ENOENT) before it could be stat'ed or opened.
	Vanished(rel string)
}

// ErrorFunc is called for each error entry, before it is sent. Returning
// nil continues the crawl; returning an error stops it, and Run returns
// that error. It is called from several walkers at once.
type ErrorFunc func(rel string, err error) error

// Options configure a Walker. The zero value is valid: live mode with
// fpsync's limits, DefaultWalkers walkers, no filter.
type Options struct {
	// Walkers is the number of directories read at once (fpsync -n
	// counts its workers the same way); 0 means DefaultWalkers.
	Walkers int

	// MaxFiles and MaxBytes close a chunk in live mode, like fpart -L -f
	// and -s: a chunk holds at most MaxFiles entries and MaxBytes bytes,
	// unless one item alone exceeds them (an oversized file, or a
	// hard-link group with more links than MaxFiles), which then gets a
	// chunk of its own. 0 means the default; -1 means no limit.
	MaxFiles int
	MaxBytes int64

	// Parts, if > 0, switches to a fixed count of chunks, like fpart -n:
	// exactly Parts chunks, balanced by cost, sent when the crawl is
	// over. It holds every entry in memory until then.
	Parts int

	// EntryCost is the cost of one entry, in bytes; 0 means
	// DefaultEntryCost.
	EntryCost int64

	Filter        Filter // include and exclude patterns
	OneFileSystem bool   // don't descend into other file systems, like fpart -b
	ReadLinks     bool   // fill Entry.Target of symlinks (one readlink each)

	// Retries is how many more times a directory is opened and read again
	// after a transient error (EINTR, EAGAIN, ESTALE, EIO); 0 means
	// DefaultRetries, -1 means none.
	Retries int

	Reporter  Reporter  // nil: report nothing
	ErrorFunc ErrorFunc // nil: continue on every error

	// fs is the file system interface: nil means the default. Tests
	// replace it to inject faults, or to use the godirwalk lister.
	fs dirFS
}

// applyDefaults replaces zero values by the defaults.
func (o *Options) applyDefaults() {
	if o.Walkers <= 0 {
		o.Walkers = DefaultWalkers
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.EntryCost == 0 {
		o.EntryCost = DefaultEntryCost
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.fs == nil {
		o.fs = defaultFS()
	}
}

// validate reports the first option that can't be used.
func (o *Options) validate() error {
	switch {
	case o.MaxFiles < -1:
		return fmt.Errorf("partition: MaxFiles %d: must be > 0, or -1 for no limit", o.MaxFiles)
	case o.MaxBytes < -1:
		return fmt.Errorf("partition: MaxBytes %d: must be > 0, or -1 for no limit", o.MaxBytes)
	case o.Parts < 0:
		return errors.New("partition: Parts must be >= 0")
	case o.EntryCost < 0:
		return errors.New("partition: EntryCost must be >= 0")
	case o.Retries < -1:
		return errors.New("partition: Retries must be >= -1")
	}
	return nil
}
