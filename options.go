package efsync

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
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
	// Checksum compares a regular file of the same size on both sides by
	// the xxh3-128 of its content, not by its mtime (rsync -c).
	Checksum bool
	// InPlace writes only the blocks that differ of a changed file of at
	// least 1 MiB (rsync --inplace --no-whole-file). Where the
	// destination clones files (XFS, Btrfs), into a clone of the old
	// copy, renamed into place: atomic, and the old inode untouched.
	// Elsewhere in the destination inode itself, which gives up
	// atomicity for that file: a crash leaves it part old, part new,
	// and the next run, reading the journal, compares it by checksum and
	// repairs it; never on an inode with other links, nor with LinkDest.
	InPlace bool
	// HugeMin is the smallest file copied in pieces, HugeWorkers at once,
	// each HugePiece bytes long, into one temporary file: one stream over
	// NFS waits on every call's latency. A huge copy that a stop, a
	// deadline or a kill cuts short is kept, recorded in the state
	// directory, and the next run copies only its missing pieces. The
	// defaults are 256 MiB, 8 and 64 MiB.
	HugeMin     int64
	HugeWorkers int
	HugePiece   int64
	// LinkDest names earlier snapshots: a file unchanged against one of
	// them (type, size, mtime, mode, owner, xattrs) is hard-linked from it,
	// not copied, and their inodes are never modified (rsync --link-dest).
	LinkDest []string
	// FullCheck reads every entry's xattrs and ACLs. Without it, a run
	// after one that ended with every entry equal reads them only for
	// entries whose ctime moved since on either side (every change to
	// xattrs, ACLs, mode or owner moves it): on a local disk, that halves
	// the calls of a run with no change. A source on another file system
	// is trusted to have a clock within 2 minutes of this machine's.
	FullCheck bool
	// NoXattrs neither compares nor copies extended attributes and ACLs,
	// like rsync without -X and -A.
	NoXattrs bool
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

	// MaxDelete and MaxDeletePercent stop the delete pass, before it
	// removes anything, when it would remove more than MaxDelete entries,
	// or more than that percentage of the destination's entries (a
	// directory counts with all it holds). The run then fails: a source
	// that lost most of its entries is more likely broken than emptied.
	// 0 means no limit.
	MaxDelete        int64
	MaxDeletePercent float64

	// StateDir keeps the runs' journals. The default is
	// $XDG_STATE_HOME/efsync, or ~/.local/state/efsync. Inside the
	// source, it is excluded from the copy; inside the destination, from
	// the delete pass.
	StateDir string
	// Resume names a run to resume: its failed and unfinished chunks are
	// copied again, then, if that run had not completed its pass, a full
	// pass follows.
	Resume string

	// Grace is how long chunks being copied may go on after ctx is done
	// or the Deadline passes; then they are cut short, their temporary
	// files removed. The default is 10 s; negative means at once.
	Grace time.Duration
	// Abort, when closed, cuts the copies short at once, as if Grace had
	// passed: a second signal, say.
	Abort <-chan struct{}

	// Progress, if set, gets a snapshot of the run's counters every
	// ProgressEvery (default 1 s), from a goroutine of its own.
	Progress      func(kpi.Report)
	ProgressEvery time.Duration

	Logger *slog.Logger

	// Queue, if set, makes Sync the leader of a run that workers share,
	// each running Work (fpsync -w): it crawls, makes each chunk's
	// directories, publishes the chunk, waits for every chunk's
	// completion, then does the delete pass and the directories'
	// metadata itself. Resume and DryRun can't be used with it.
	Queue Queue
	// Heartbeat is how often a worker extends the visibility of the task
	// it copies, by 3 × Heartbeat; the default is 10 s.
	Heartbeat time.Duration
	// WorkerID names the worker in its completions, for the logs.
	WorkerID string
	// Job tags the tasks a leader publishes (Task.Job); Work with a Job
	// takes only that job's tasks, and drops the others: the leftovers
	// of a job that ended, since a queue carries one job at a time.
	Job string

	// Backup's: where a complete pass writes the paths of its hard-link
	// group members, and those of the reference tree (see
	// transfer.Options.RefGroups).
	groupsFile string
	refGroups  map[string]bool
	// the file refGroups was read from, for a queue's workers
	refGroupsFile string
	// and what the copier reports of each entry, for the manifest, and,
	// with a Queue, the paths published to workers instead, and what
	// their copies learnt (queue_sums.go).
	onDone   func(transfer.Done)
	onQueued func(rel string)
	onSum    func(manifest.Record) error
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

// MaxFiles sets Options.MaxFiles (fpsync -f).
func MaxFiles(n int) Option { return func(o *Options) { o.MaxFiles = n } }

// StateDir sets Options.StateDir.
func StateDir(dir string) Option { return func(o *Options) { o.StateDir = dir } }

// Resume sets Options.Resume.
func Resume(runID string) Option { return func(o *Options) { o.Resume = runID } }

// MaxDelete sets Options.MaxDelete.
func MaxDelete(n int64) Option { return func(o *Options) { o.MaxDelete = n } }

// WithQueue sets Options.Queue: Sync leads a run that workers share.
func WithQueue(q Queue) Option { return func(o *Options) { o.Queue = q } }

// Progress sets Options.Progress.
func Progress(f func(kpi.Report)) Option { return func(o *Options) { o.Progress = f } }

// validate reports the first option that can't be used, as bad input.
func (o *Options) validate() error {
	switch {
	case o.MaxDelete < 0:
		return usage("max delete %d: want a positive count", o.MaxDelete)
	case o.MaxDeletePercent < 0 || o.MaxDeletePercent > 100:
		return usage("max delete %g%%: want a percentage from 0 to 100", o.MaxDeletePercent)
	case o.MaxFiles < -1 || o.MaxBytes < -1:
		return usage("max files %d, max bytes %d: want positive limits, or -1", o.MaxFiles, o.MaxBytes)
	case o.HugeMin < 0 || o.HugeWorkers < 0 || o.HugePiece < 0:
		return usage("huge min %d, workers %d, piece %d: want positive values, or 0 for the defaults", o.HugeMin, o.HugeWorkers, o.HugePiece)
	case o.Queue != nil && (o.DryRun || o.Resume != ""):
		return usage("a run shared through a queue can't be a dry run, nor resume a run")
	case o.Queue != nil && o.InPlace:
		// Only the leader's journal tracks files being rewritten in
		// place: one a dead worker left half-written would pass the next
		// run's quick check.
		return usage("a run shared through a queue can't copy in place")
	case o.Resume != "" && !validRunID(o.Resume):
		return usage("resume %q: not a run id", o.Resume)
	}
	return nil
}

func (o *Options) applyDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8 * runtime.NumCPU()
	}
	if o.Walkers <= 0 {
		o.Walkers = o.Workers
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}
