package efsync

import (
	"log/slog"
	"runtime"
	"time"
)

// Options configure Sync. They mirror fpsync's: Workers is -n, MaxFiles -f,
// MaxBytes -s, Delete -E. The zero value is valid.
type Options struct {
	// Workers is how many chunks are copied at once; the default is 8 ×
	// the number of CPUs, since EFS work waits on latency, not CPU.
	Workers int
	// Walkers is how many directories the crawl reads at once; the
	// default is Workers.
	Walkers int
	// MaxFiles and MaxBytes close a chunk; see partition.Options.
	MaxFiles int
	MaxBytes int64
	// Delete removes destination entries the source lacks, in every
	// directory the crawl read completely.
	Delete bool
	// DryRun changes nothing; Itemize says what would change.
	DryRun  bool
	Itemize func(line string)
	// Excludes are patterns, like fpart -x, on names or, with a slash,
	// relative paths. Excluded entries are neither copied nor deleted.
	Excludes []string
	// OneFileSystem doesn't descend into other file systems.
	OneFileSystem bool
	// Deadline, if set, stops the run at that time: the report is then
	// Incomplete.
	Deadline time.Time
	// RequireMount refuses a source that is not a mount point, or is
	// empty: an unmounted EFS must never be mirrored as an empty tree.
	RequireMount bool
	// RequireFile refuses a source without this file at its top.
	RequireFile string

	Logger *slog.Logger
}

// Option sets one of the Options.
type Option func(*Options)

// WithOptions sets all of the Options at once.
func WithOptions(o Options) Option { return func(p *Options) { *p = o } }

// Workers sets Options.Workers (fpsync -n).
func Workers(n int) Option { return func(o *Options) { o.Workers = n } }

// Delete sets Options.Delete (fpsync -E).
func Delete() Option { return func(o *Options) { o.Delete = true } }

// DryRun sets Options.DryRun, and Itemize to f.
func DryRun(f func(line string)) Option {
	return func(o *Options) { o.DryRun, o.Itemize = true, f }
}

// Exclude adds patterns to Options.Excludes.
func Exclude(patterns ...string) Option {
	return func(o *Options) { o.Excludes = append(o.Excludes, patterns...) }
}

// RequireMount sets Options.RequireMount.
func RequireMount() Option { return func(o *Options) { o.RequireMount = true } }

// Deadline sets Options.Deadline.
func Deadline(t time.Time) Option { return func(o *Options) { o.Deadline = t } }

func (o *Options) applyDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8 * runtime.NumCPU()
	}
	if o.Walkers <= 0 {
		o.Walkers = o.Workers
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}
