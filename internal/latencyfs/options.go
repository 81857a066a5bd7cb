package latencyfs

import (
	"fmt"
	"path"
	"slices"
	"syscall"
	"time"
)

// Options configure a latencyfs mount. The zero value is a plain loopback:
// no delay, no kernel caching, no faults.
type Options struct {
	// Delay is waited by every metadata operation (lookup, getattr,
	// create, flush, ...): the round trip of one NFS call. 1 ms is close
	// to EFS.
	Delay time.Duration
	// DataDelay is waited by every read and write call.
	DataDelay time.Duration

	// AttrTTL, EntryTTL and NegativeTTL are how long the kernel may cache
	// attributes, name lookups and failed lookups (0 = not at all), like
	// the NFS client's actimeo.
	AttrTTL, EntryTTL, NegativeTTL time.Duration

	// NoXattrs makes the file system have no extended attributes, like
	// EFS: the four xattr calls answer ENOSYS, so the kernel answers
	// EOPNOTSUPP from then on without asking again (FUSE's no_getxattr,
	// no_listxattr, ... flags), as the NFS client answers locally. Each
	// call reaches the server at most once, counted but not delayed.
	NoXattrs bool

	// WritebackCache makes the kernel write as the NFS client does: a
	// write(2) (or a copy_file_range, which both split into 64 KiB
	// splices) only copies into the page cache, and the kernel writes the
	// dirty pages back later, several requests at once and up to 1 MiB
	// (EFS's wsize, MaxWrite here) per request; close(2) and fsync(2)
	// wait for them. Without it FUSE holds the inode lock across each
	// write and its requests, so the writers of one file wait for one
	// another, and each 64 KiB splice of a copy is one delayed call.
	//
	// As on NFS, the kernel owns the size and mtime of a file open for
	// writing until it flushes it: a write error such as ENOSPC (a Fault
	// on "write") shows at fsync or close, not at write(2), and the
	// server sees the mtime the kernel keeps, which an explicit
	// futimens after the writes sets (the kernel writes the dirty pages
	// back before it sends that SETATTR).
	//
	// Pair it with NoXattrs and an AttrTTL, as on EFS: before each
	// write(2), or each 64 KiB splice, FUSE asks for the mode (a GETATTR
	// once the attributes expired) and for security.capability (a
	// GETXATTR, under the inode lock, as FUSE never marks an inode free
	// of it), which the NFS client does not send; each waits Delay.
	WritebackCache bool

	// Faults are the initial faults; see Mount.SetFaults.
	Faults []Fault

	// Binary is the path of a prebuilt cmd/latencyfs. If empty, the
	// helper uses $EFSYNC_LATENCYFS_BIN, else builds it with go build.
	// It is not sent to the child.
	Binary string `json:"-"`
}

// Fault makes matching operations fail or slow down. An operation matches
// when Op, Path and AfterBytes all match; only the first matching fault of
// the list applies, so put specific faults before general ones.
type Fault struct {
	// Op is the operation name as counted in Counts.Ops ("write",
	// "create", "link", ...); "" matches every operation.
	Op string
	// Path is a path.Match pattern for the slash path relative to the
	// mount root ("full/*", "a/b.txt"); "" matches every path. Rename
	// and link match on either their old or their new path.
	Path string
	// NewPath makes Path match only the new name of a link or rename,
	// not the entry linked or renamed.
	NewPath bool
	// Errno is returned by the operation; 0 returns no error, making the
	// fault a pure Delay.
	Errno syscall.Errno
	// AfterBytes, if > 0, matches only writes that reach past this
	// offset of the file, so a sequential writer gets the error once it
	// wrote AfterBytes bytes (like ENOSPC on a filling disk).
	AfterBytes int64
	// Times, if > 0, applies the fault at most this many times (counted
	// from the last SetFaults), then the operation succeeds, as a
	// transient error does.
	Times int
	// Delay is waited before answering, on top of Options.Delay; with
	// Errno 0 it slows an operation down, e.g. so that a test can kill a
	// copier in the middle of a write. It ends early when the kernel
	// interrupts the call (the caller got a signal), so a killed caller
	// goes away at once.
	Delay time.Duration
}

// Counts is what reached the file system since the start or the last Reset.
type Counts struct {
	// Ops counts calls by operation name; operations that never ran are
	// absent. OpNames lists the names.
	Ops map[string]int64
	// BytesRead and BytesWritten count the data moved by read and write
	// calls (kernel readahead included).
	BytesRead, BytesWritten int64
	// MaxWritesInFlight is the most write calls that were in the file
	// system at once (delay included): 1 means the writes were serialised.
	MaxWritesInFlight int64
}

// OpNames returns the operation names that latencyfs counts and that
// Fault.Op may name. statx requests count as "getattr" and tmpfile as
// "create"; "release", "releasedir" and "copy_file_range" are counted but
// never delayed (see node.go).
func OpNames() []string { return slices.Clone(opNames[:]) }

// opNames is a constant table; an array so that nothing appends to it.
var opNames = [...]string{
	"lookup", "getattr", "setattr", "open", "create", "mkdir", "mknod",
	"opendir", "readdir", "releasedir", "rename", "unlink", "rmdir", "link",
	"symlink", "readlink", "flush", "fsync", "fsyncdir", "release",
	"getxattr", "setxattr", "listxattr", "removexattr", "statfs",
	"read", "write", "copy_file_range", "lseek", "fallocate",
}

// validate reports the first fault that can never match as intended.
func validate(faults []Fault) error {
	for i, f := range faults {
		if f.Op != "" && !knownOp(f.Op) {
			return fmt.Errorf("fault %d: unknown op %q", i, f.Op)
		}
		if _, err := path.Match(f.Path, ""); err != nil {
			return fmt.Errorf("fault %d: path %q: %w", i, f.Path, err)
		}
		if f.AfterBytes < 0 || f.Times < 0 || f.Delay < 0 {
			return fmt.Errorf("fault %d: negative AfterBytes, Times or Delay", i)
		}
	}
	return nil
}

func knownOp(op string) bool { return slices.Contains(opNames[:], op) }

// maxTTL is the longest time the kernel may answer from its caches.
func (o Options) maxTTL() time.Duration {
	return max(o.AttrTTL, o.EntryTTL, o.NegativeTTL)
}
