// Package transfer makes a destination tree match a source tree, chunk by
// chunk, without rsync: exact to the nanosecond, atomic per file, and safe
// against a hostile destination.
//
//	c, _ := transfer.New(ctx, src, dst, opt) // opens both roots, probes dst once
//	c.Run(ctx, chunks, results)             // Options.Workers workers share each
//	                                        // chunk, in batches of consecutive
//	                                        // entries; a chunk's Result follows
//	                                        // its last batch
//	    per entry, retrying EIO/ESTALE/ETIMEDOUT/EAGAIN with backoff:
//	        open its destination directory through the worker's chain of
//	          directory fds (openat O_NOFOLLOW; missing ones made 0700);
//	          with Delete, the first open of a directory lists it (the
//	          delete pass's list, and READDIRPLUS brings the attributes of
//	          the entries in it); the source's, only if data or xattrs are
//	          read
//	        quick check: type, size, mtime (ns), mode, owner, xattrs (not
//	          read when the destination can set none, nor from a source
//	          file system that has none, like EFS)
//	        with LinkDest, a regular file not up to date in a copy of
//	          its own: linked (linkat to a temporary name, rename) from
//	          the first reference tree where it is unchanged, else
//	          copied (where the destination clones: FICLONE of the old
//	          copy or a reference's into a temporary file, then no data
//	          if the quick check says it is the same, else the differing
//	          blocks from DeltaMin up); a destination inode with
//	          nlink > 1 is never changed in place, only left or replaced
//	        equal:           nothing
//	        metadata only:   chown, xattrs, chmod, utimes on the entry
//	        data differs:    write a temporary file beside it (data extents
//	                         only: holes stay holes), chown, xattrs, chmod,
//	                         utimes on its fd, close (NFS reports ENOSPC
//	                         there), rename over the name
//	        >= HugeMin:      the same, its HugePiece pieces copied by
//	                         HugeWorkers goroutines at once (pwrite at
//	                         each offset); with Partial, a cancelled
//	                         copy keeps its temporary file and records
//	                         its done pieces, and the next run of an
//	                         unchanged source copies only the others
//	        InPlace, >= DeltaMin, destination clones (probed once: XFS,
//	                         Btrfs): FICLONE the old copy into a temporary
//	                         file, patch it as below, seal and rename it
//	                         like a copy; no Dirty or Clean
//	        InPlace, one link, >= DeltaMin: Dirty, then read both sides
//	                         block by block (holes are not read),
//	                         pwrite the blocks whose xxh3-128 differ,
//	                         punch where the source has a hole, truncate
//	                         or extend, chown, xattrs, chmod, utimes on
//	                         its fd, close, Clean
//	        (with Checksum, or for an entry Recheck names, a regular file's
//	          data is equal when both sides have the same size and the
//	          same xxh3-128; with IgnoreTimes, never)
//	        other types:     symlink/mknod under a temporary name, rename
//	    hard-link groups: keep or copy one member, link the others to it
//	    directories: record their metadata for Finish
//	c.Finish(ctx) // Delete: prune entries the source lacks, in completely
//	              // read directories, from those lists (a directory
//	              // never opened is listed now); then directories'
//	              // metadata, deepest level first, a level in parallel
//
// # Safety
//
// Every destination call is relative to a directory fd opened with
// O_NOFOLLOW, or to the entry's own fd: a symlink planted in the
// destination can never redirect a write, chmod, chown, xattr or delete
// outside it. Calls with no *at form (xattr writes, and reads on kernels
// before 6.13; chmod before 6.6) go through /proc/self/fd/N/name with
// no-follow semantics. Names are bytes
// and paths may be longer than PATH_MAX. A cancelled or failed copy removes
// its temporary file (a cancelled huge one with Partial keeps it, under its
// temporary name), so every destination name holds the old entry or the
// new one, never a part. Temporary names start with TempPrefix (IsTemp), so
// a later run can clean up after a killed one.
//
// The one exception is InPlace where the destination can't clone files
// (EFS): a file rewritten in its own inode is not atomic. A run that fails or is killed while writing it leaves old and new
// blocks mixed under a size and mtime that may already look right; the
// Dirty and Clean hooks let the caller journal such files, and Recheck has
// the next run compare them by checksum and repair them. An inode with
// more than one link is never written in place, so another name on it
// (an older snapshot's) keeps its content.
//
// # Fidelity
//
// Types: regular files of any size (sparse ones stay sparse), directories,
// symlinks (targets verbatim), hard links (one inode per group, reusing an
// up-to-date copy from an earlier run), fifos, sockets, and devices when
// privileged (otherwise Skipped, with one warning). Metadata: mode with
// setuid, setgid and sticky; numeric owner when privileged; mtime to the
// ns (access times are left alone); user.* xattrs, trusted.* and security.*
// when privileged, POSIX ACLs. Order: data, chown (it clears setuid and
// security.capability), xattrs (an ACL rewrites the group bits), chmod,
// times. What the destination lacks is probed once and warned about once.
//
// # Errors
//
// An entry that fails after its retries is reported (Options.Reporter,
// Options.ErrorFunc, Result.Failed) and the run goes on. ENOSPC, EDQUOT
// and EROFS stop it with a *FatalError. A source entry gone since the crawl
// is counted as vanished, not as an error. A source directory the crawl
// could not read completely is never pruned.
package transfer
