package transfer

import (
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/efsync/efsync/kpi"
)

// Reporter receives what the copier does with each entry. *kpi.Counters
// satisfies it; a nil Options.Reporter reports nothing.
type Reporter interface {
	StartFile(rel string, size int64) *kpi.File
	Deleted(t kpi.EntryType)
	Error(rel string, err error)
}

// Options configure a Copier. The zero value copies with full fidelity:
// owners when privileged, xattrs and ACLs, times to the nanosecond.
type Options struct {
	// Workers is how many entries are copied at once. The default is 8 ×
	// the number of CPUs: on NFS the work waits on latency, not CPU.
	Workers int
	// MtimeWindow is how far apart two mtimes may be and still be equal,
	// for file systems with coarse times. Zero compares nanoseconds.
	MtimeWindow time.Duration
	// Atime also gives entries the source's access times, as the crawl saw
	// them (rsync -U). Without it, access times are left alone.
	Atime bool
	// NoXattrs skips extended attributes and ACLs, in comparing and
	// copying (each costs a call per entry on each side).
	NoXattrs bool
	// Settled is when an earlier pass found every entry equal (its
	// Copier's Clock). Entries whose ctime is before it on both sides are
	// compared by their stat alone, without reading their xattrs: on a
	// local disk those reads are half the calls of a pass with no
	// change. Zero reads every entry's xattrs.
	Settled Clock
	// LinkDest names reference trees, earlier snapshots, by absolute
	// paths (a final symlink is followed), like rsync --link-dest. A
	// regular file the destination lacks or must rewrite is hard-linked
	// from the first tree that holds it unchanged (type, size, mtime,
	// mode, owner when privileged, xattrs when compared) instead of
	// copied. A reference's inode is never changed: a linked file gets no
	// metadata call (not even Atime's), and a destination file with more
	// than one link that needs any change is replaced by a new copy. A
	// tree on another mount than the destination is warned about once and
	// not used; EMLINK (177 links on EFS) means a copy. Symlinks, devices
	// and directories are made as usual.
	//
	// Where the destination clones files (XFS, Btrfs), the new copy of a
	// file that can't be linked is a clone of a basis: the destination's
	// old copy, else a reference's (rsync's order). If the basis has the
	// data by the quick check (a change of mode, owner or xattrs), no
	// data is written at all; else, from DeltaMin up, only the blocks
	// that differ. The basis inode is only read.
	LinkDest []string
	// RefGroups, if set, reports whether the reference file rel is one
	// of several names of its inode in a reference tree: a hard-link
	// group when that tree was made. Such a file is linked only for a
	// source file in a hard-link group itself, and each reference inode
	// for one source inode per run; otherwise a source group split since
	// (files with the same data and metadata, no longer links) would be
	// one inode again in the new tree. Without it, like rsync, such a
	// split group is linked back together.
	RefGroups func(rel string) bool
	// OnDone, if set, is called for each entry that ends matching its
	// source (see Done), from several goroutines at once: a snapshot's
	// manifest is built from it.
	OnDone func(Done)
	// Hash makes the copier hash (xxh3-128) each regular file it copies
	// by reading it, for OnDone: read and write then carry the data, not
	// copy_file_range. Files written otherwise (a delta, a clone, a huge
	// file's pieces, a link) are not hashed.
	Hash bool
	// Fsync flushes each file to stable storage before its rename.
	Fsync bool
	// DryRun changes nothing and reports, through Itemize, what would
	// change.
	DryRun bool
	// Itemize, if set, gets one line per changed entry, like rsync -i.
	// It is called from several goroutines at once.
	Itemize func(line string)
	// Delete makes Finish remove destination entries that are not in the
	// source, in each directory the source crawl read completely.
	Delete bool
	// Protect reports whether a destination path must survive Delete
	// though it is not in the source: one excluded from the copy, say.
	Protect func(rel string) bool
	// BeforeDelete, if set, is called once the delete pass knows how many
	// entries it would remove (a directory counts with everything under
	// it), before it removes any. An error stops Finish with that error
	// and nothing removed: a guard against a source that lost its mount.
	BeforeDelete func(n int64) error
	// Retries is how often a transient error (EIO, ESTALE, ETIMEDOUT,
	// EAGAIN) is retried; Backoff is the first wait, doubled each time.
	Retries int
	Backoff time.Duration
	// ErrorFunc is called with each entry that fails after its retries. If
	// it returns an error, the run stops with it; nil goes on. The
	// default goes on.
	ErrorFunc func(rel string, err error) error

	// Checksum, IgnoreTimes, InPlace, DeltaMin, DeltaBlock, Dirty, Clean
	// and Recheck choose how a regular file's content is compared and
	// written: see ContentOptions.
	ContentOptions

	Reporter Reporter
	Logger   *slog.Logger
}

func (o *Options) applyDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8 * runtime.NumCPU()
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Backoff == 0 {
		o.Backoff = 50 * time.Millisecond
	}
	if o.ErrorFunc == nil {
		o.ErrorFunc = func(string, error) error { return nil }
	}
	if o.Reporter == nil {
		o.Reporter = (*kpi.Counters)(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.ContentOptions.applyDefaults()
	if o.Protect == nil {
		o.Protect = func(string) bool { return false }
	}
}
