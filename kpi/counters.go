package kpi

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxErrors is the number of errors, and of vanished paths, that a
// Report keeps with their paths when Options.MaxErrors is 0.
const DefaultMaxErrors = 100

// Options configure Counters. The zero value is ready to use.
type Options struct {
	RunID       string // names the run in reports
	Source      string // what is copied, for reports only
	Destination string // where it is copied to, for reports only

	// MaxErrors is how many errors, and how many vanished paths, are kept
	// with their paths; later ones are only counted. 0 means
	// DefaultMaxErrors; a negative value keeps none.
	MaxErrors int

	// Now is the clock; nil means time.Now. Tests pass a fixed clock.
	Now func() time.Time
}

func (o *Options) applyDefaults() {
	if o.MaxErrors == 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.MaxErrors < 0 {
		o.MaxErrors = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Counters is the one set of counters of a run. Every stage reports to it;
// it never calls back, prints or decides anything (like rclone's
// accounting). All methods are safe for concurrent use. The counters on
// the hot path (Scanned, Deleted, StartFile and File's methods) use
// sync/atomic only; the capped error list, phases and partitions take a
// mutex, off the hot path.
//
// All methods of a nil *Counters are no-ops, and StartFile then returns a
// nil *File whose methods are no-ops too, so a stage given no counters need
// not check.
type Counters struct {
	// config
	opt   Options
	start time.Time

	// state
	n      tally    // hot counters, sync/atomic only
	kept   kept     // first errors and vanished paths
	phases phases   // named phase timers
	parts  partlist // per-partition records
	mu     sync.Mutex
	stop   time.Time // set once by Finish, under mu
	status Status    // set once by Finish, under mu
}

// tally holds the counters updated without locks.
type tally struct {
	scanned          [numTypes]atomic.Int64
	scannedBytes     atomic.Int64
	deleted          [numTypes]atomic.Int64
	outcomes         [numOutcomes]atomic.Int64
	inFlight         atomic.Int64 // files started and not Done
	transferred      atomic.Int64 // files whose data was copied
	transferredBytes atomic.Int64 // their sizes
	read             atomic.Int64 // bytes read through File.Reader and File.Copied
	literal          atomic.Int64
	matched          atomic.Int64
	classes          [numClasses]atomic.Int64 // ClassVanished counts vanished entries
	errors           atomic.Int64             // all classes but ClassVanished: orders the kept list
}

// kept holds the first errors and vanished paths, up to max of each.
type kept struct {
	mu       sync.Mutex
	errors   []ErrorRecord
	vanished []string
}

// New returns the counters of one run, started now by opt.Now.
func New(opt Options) *Counters {
	opt.applyDefaults()
	return &Counters{opt: opt, start: opt.Now()}
}

// Scanned counts one entry of type t found by the walk and adds size to the
// scanned bytes. Pass the size that should count towards "Total file size":
// rsync counts regular files and symlinks, and 0 for the rest. An unknown t
// counts as TypeOther.
func (c *Counters) Scanned(t EntryType, size int64) {
	if c == nil {
		return
	}
	c.n.scanned[min(t, TypeOther)].Add(1)
	c.n.scannedBytes.Add(size)
}

// Deleted counts one entry of type t removed from the destination because
// it is gone from the source. An unknown t counts as TypeOther.
func (c *Counters) Deleted(t EntryType) {
	if c == nil {
		return
	}
	c.n.deleted[min(t, TypeOther)].Add(1)
}

// Error counts err, met on the entry at rel, in its class (see Classify),
// and keeps it with its path if fewer than Options.MaxErrors were kept. An
// error of ClassVanished is passed to Vanished instead: an entry that went
// away during the run is not an error. A nil err is ignored.
func (c *Counters) Error(rel string, err error) {
	if c == nil || err == nil {
		return
	}
	c.record(ErrorRecord{Path: rel, Class: Classify(err), Message: err.Error()})
}

// record counts r in its class and keeps it if fewer than
// Options.MaxErrors were kept; a vanished entry goes to Vanished.
func (c *Counters) record(r ErrorRecord) {
	if r.Class == ClassVanished {
		c.Vanished(r.Path)
		return
	}
	c.n.classes[r.Class].Add(1)
	if c.n.errors.Add(1) > int64(c.opt.MaxErrors) {
		return
	}
	c.kept.mu.Lock()
	c.kept.errors = append(c.kept.errors, r)
	c.kept.mu.Unlock()
}

// Vanished counts the entry at rel, which was listed by the walk but was
// gone (ENOENT) when it was read or copied, and keeps rel if fewer than
// Options.MaxErrors paths were kept. Like rsync's "file has vanished", it is
// not an error.
func (c *Counters) Vanished(rel string) {
	if c == nil {
		return
	}
	if c.n.classes[ClassVanished].Add(1) > int64(c.opt.MaxErrors) {
		return
	}
	c.kept.mu.Lock()
	c.kept.vanished = append(c.kept.vanished, rel)
	c.kept.mu.Unlock()
}

// Finish records the end of the run and its status, as decided by the
// engine. Only the first call counts; later ones are ignored.
func (c *Counters) Finish(s Status) {
	if c == nil {
		return
	}
	now := c.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop.IsZero() {
		c.stop, c.status = now, s
	}
}
