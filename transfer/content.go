package transfer

import "time"

// ContentOptions choose how the content of a regular file is compared
// with its destination copy, and how a changed one is written. The zero
// value is the quick check (size and mtime) and an atomic copy of each
// changed file. They are part of Options.
type ContentOptions struct {
	// Checksum compares the content of a regular file whose destination
	// copy has the same size, whatever the mtimes (rsync -c): by the
	// xxh3-128 of both sides, read in full. Equal content brings only the
	// metadata, mtime included; different content is copied.
	Checksum bool
	// IgnoreTimes copies every regular file, whatever the quick check
	// says (rsync -I). With InPlace, an unchanged file is read on both
	// sides and nothing of it is written.
	IgnoreTimes bool

	// InPlace writes only the blocks of a changed file that differ from
	// its destination copy, when the source is at least DeltaMin bytes
	// (rsync --inplace --no-whole-file). Any other file is copied.
	//
	// Where the destination clones files (FICLONE: XFS, Btrfs; probed
	// once), the blocks are written into a clone of the destination copy
	// that is then renamed over it: the copy stays atomic, the old inode
	// is only read (so any link count qualifies, and link-dest too), and
	// the clone shares the old copy's unchanged blocks. Dirty and Clean
	// are not called.
	//
	// Elsewhere (EFS), the blocks are written in the destination inode
	// itself, if it is a regular file with one link that the copier can
	// open for writing, and never with link-dest: an inode of an older
	// snapshot is never written. NB: such a file loses the atomicity of
	// the copy. A run that fails or is killed part way leaves it with
	// some new blocks and some old, and another name that shares its
	// inode would see the change (hence the one-link rule). Dirty and
	// Clean let the caller journal it, and Recheck lets the next run find
	// and repair it.
	InPlace bool
	// DeltaMin is the smallest source file written in place, or patched
	// into a clone (see LinkDest). Below it a copy costs little more than
	// reading both sides. The default is 1 MiB.
	DeltaMin int64
	// DeltaBlock is the unit compared and rewritten in place. The default,
	// 128 KiB, keeps the bytes rewritten around a small change small and
	// the calls few: NFS clients read and write up to 1 MiB per call
	// anyway, so smaller blocks save little on the wire and cost CPU.
	DeltaBlock int64

	// Dirty, if set, is called with a file's path before it is written in
	// place (before its blocks are even compared). An error makes the
	// copier copy that file atomically instead. It is called from several
	// goroutines at once.
	Dirty func(rel string) error
	// Clean, if set, is called with the path of a file written in place,
	// once it is complete: content and metadata written (and flushed,
	// with Fsync). A file that fails after Dirty is never Clean. It is
	// called from several goroutines at once.
	Clean func(rel string)
	// Recheck, if set, says which entries are compared by checksum even
	// without Checksum: those a killed in-place run left dirty, whose size
	// and mtime may look right over half-written content. It is called
	// from several goroutines at once.
	Recheck func(rel string) bool

	// HugeMin is the smallest regular file copied in pieces, HugeWorkers
	// at once, into one temporary file (see copyHuge): one stream over
	// NFS waits on each call's latency, several keep the wire busy. The
	// defaults are 256 MiB and 8.
	HugeMin     int64
	HugeWorkers int
	// HugePiece is the length of a piece, the unit of a resumed copy. The
	// default, 64 MiB, keeps the work lost to a cancel small and the
	// record of a 2 TB file short (32768 offsets at most).
	HugePiece int64
	// Partial, if set, keeps the temporary file of a huge copy that is
	// cancelled, and records it, so that the next run copies only its
	// missing pieces. Without it, the temporary file is removed.
	Partial Partial
	// PartialEvery is how often a huge copy in progress is recorded with
	// Partial, for a run that is killed before it can record anything
	// (with Partial, each piece is flushed before it counts as done). The
	// default, 5 s, loses at most 5 s of copying to a kill, and rewrites
	// the record a few times a minute rather than after every piece.
	PartialEvery time.Duration
}

const (
	defaultDeltaMin   = 1 << 20
	defaultDeltaBlock = 128 << 10
	defaultHugeMin    = 256 << 20
	defaultHugePiece  = 64 << 20
)

func (o *ContentOptions) applyDefaults() {
	if o.DeltaMin <= 0 {
		o.DeltaMin = defaultDeltaMin
	}
	if o.DeltaBlock <= 0 {
		o.DeltaBlock = defaultDeltaBlock
	}
	if o.HugeMin <= 0 {
		o.HugeMin = defaultHugeMin
	}
	if o.HugeWorkers <= 0 {
		o.HugeWorkers = 8
	}
	if o.HugePiece <= 0 {
		o.HugePiece = defaultHugePiece
	}
	if o.PartialEvery <= 0 {
		o.PartialEvery = 5 * time.Second
	}
}
