// Package manifest is the on-disk list of a snapshot's entries: for each
// one its path, type, size, mode, owner, mtime in ns, content hash
// (xxh3-128), symlink target, device number and a digest of its extended
// attributes. Verify compares a tree against it; the next backup takes the
// hashes of unchanged files from it.
//
// Records are added in any order, from many goroutines, and come out of a
// manifest sorted by path (see Compare). Memory is bounded: past
// Options.MaxRecords, the Writer spills a sorted run to a temporary file,
// and Close merges the runs, like an external merge sort:
//
//	w, err := manifest.Create(name, manifest.Options{TempDir: dir})
//	w.Add(rec) ...                       // any order, any goroutine
//	  buffer full: sort the buffer, keep the last of equal paths,
//	               write it as a run file (gzip level 1), clear it
//	w.Close()
//	  while runs > FanIn: merge the oldest FanIn runs into one run
//	  k-way merge (container/heap) of the runs and the buffer;
//	    of equal paths, the one added last wins
//	  write to NAME.tmp-*, fsync, rename to NAME, fsync the directory
//	  remove the runs
//
//	r, err := manifest.Open(name)
//	for rec, err := r.Next(); err == nil; rec, err = r.Next() { ... }
//
//	manifest.Join(prev, cur, func(a, b *Record) error { ... })
//	  merge join by path: (a, nil) only in prev, (nil, b) only in cur,
//	  (a, b) in both
//
// Sorter is the Writer without its output file: it sorts any number of
// records (a crawl's paths, say) with bounded memory and hands back a
// sorted Stream.
//
// # Format
//
// A manifest file is a 9-byte header, "EFSYNCMF" and a version byte (1),
// then one gzip stream of records in Compare order, then an end marker:
//
//	record:  type byte (Type, 0..7)
//	         flags byte (1 hash, 2 xattrs, 4 target, 8 rdev)
//	         uvarint shared: bytes of the path shared with the previous one
//	         uvarint n, then n bytes: the rest of the path
//	         uvarint mode, uvarint uid, uvarint gid
//	         varint size, varint mtime (zig-zag)
//	         [16 bytes hash] [16 bytes xattrs]
//	         [uvarint n, n bytes target] [uvarint rdev]
//	end:     0xFF, uvarint number of records
//
// A reader checks everything it can: the header, the gzip checksum, that
// paths increase strictly, that the end marker is there and counts the
// records, and that nothing follows it. A damaged or truncated file is an
// error wrapping ErrCorrupt and naming the file, never a panic.
package manifest
