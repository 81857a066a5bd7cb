// Package partition crawls a source tree with several walkers at once and
// cuts it into chunks for the copier: a parallel, streaming fpart.
//
// Overview of Walker.Run:
//
//	open root (following a symlink: the user named it), or fail
//	crawl, Options.Walkers goroutines, each with its own stack of spans
//	(the subdirectory names of one directory):
//	    take a name from the own top span (depth first), else steal one
//	        from the bottom span of another stack (nearest the root)
//	    open dir: openat(parent fd, name, O_DIRECTORY|O_NOFOLLOW), fstat
//	    read all names: getdents64 into a 128 KiB buffer
//	    on EINTR/EAGAIN/ESTALE/EIO: close, wait, reopen, read it all again
//	    if it still fails: add the dir alone, as an error entry; next
//	    for each name: filter; a subdirectory goes into the dir's span;
//	        anything else: fstatat(dir fd, name, AT_SYMLINK_NOFOLLOW)
//	        (readlinkat if Options.ReadLinks); ENOENT: counted as vanished
//	    add [dir entry, its other children] as one batch, under a mutex:
//	        hard links: hold each group until nlink links are seen
//	        live:  put each item in the chunk; send it at MaxFiles or
//	               MaxBytes (blocks while the consumer is busy: backpressure)
//	        parts: keep every item
//	    push the dir's span; its fd stays open until its subdirs are opened
//	at the end: place the incomplete link groups; send the last chunk, or
//	    with Parts, deal the items largest first into Parts chunks
//
// # What is emitted
//
// Every entry under the root is in exactly one chunk, and the root itself
// as Path "." (the copier needs its metadata). Every directory is emitted,
// before its children in live mode. A directory that can't be opened or
// read to the end after retries is an error entry (Entry.Err, with its
// lstat where known), never silently skipped (martymac/fpart#37), and
// Entry.Incomplete tells a copier not to delete under it. Entries that
// vanish during the crawl are counted by the Reporter, not emitted.
//
// # Chunks
//
// Live mode (the default) sends a chunk when it reaches Options.MaxFiles
// entries or Options.MaxBytes bytes, like fpart -L, while the crawl goes
// on. A single item over a limit gets a chunk of its own. Options.Parts
// makes a fixed count of chunks, balanced by cost with greedy largest
// first like fpart -n (which fpart can't do live, martymac/fpart#49); it
// holds every entry in memory until the crawl ends, and costs one sort.
// Cost counts files as well as bytes (DefaultEntryCost): on EFS a
// thousand 1 KiB files cost far more than one 1 MiB file.
//
// A hard-link group (non-directories with one dev and ino and nlink > 1)
// lands whole in one chunk with its bytes counted once. fpart splits
// groups, and fpsync then copies each link as a file (martymac/fpart#8).
//
// # System calls, and godirwalk
//
// Every call is relative to an open directory: openat with O_NOFOLLOW,
// fstatat, getdents64 with a large buffer. Measured on these machines,
// that alone makes a stat walk about 2.5 times faster than full-path
// calls, and no path length limit applies. Symlinks are never followed.
// github.com/karrick/godirwalk lists directories portably and cheaply,
// but it opens each by full path, hides its fd (so no fstatat relative to
// it) and reads one page per call by default; so on Linux the crawl reads
// its own fds with getdents64, and godirwalk's Scanner is the lister on
// other systems (see godirwalkFS), run by the tests on Linux too.
//
// # Memory
//
// Memory follows the work in flight, not the size of the tree: per walker
// a buffer, the spans waiting (names of subdirectories, about depth ×
// fan-out, where a breadth-first queue would hold the width of the
// tree), one open fd per directory whose subdirectories wait, the chunk
// being filled and the one the consumer holds, and the hard-link groups
// not yet complete. A directory's names are held until it is read to the
// end, so the largest directory sets a floor. BenchmarkPartitionMemory, in
// the module root, compares the peak heap over 1M entries with that over
// 100k.
package partition
