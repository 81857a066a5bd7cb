// Package latencyfs is an EFS-like file system for tests and benchmarks: a
// FUSE loopback of a local directory that makes every metadata call wait
// about as long as an NFS round trip to Amazon EFS, counts what reaches
// it, and injects faults.
//
// On EFS the cost of a tree copy is the number of metadata calls and how
// many are in flight at once (see BENCHMARKS.md); latencyfs makes that
// cost visible on a laptop, and lets a test assert what a copier really
// did: how many creates, renames and bytes written.
//
// Overview:
//
//	test process                          child process (cmd/latencyfs)
//	------------                          -----------------------------
//	m := Start(t, backing, Options{...})
//	  go build cmd/latencyfs (cached)
//	  exec child, stdin = pipe  ------->  Serve:
//	                                        mount backing on m.Dir() (go-fuse)
//	                                        listen on a control socket
//	  wait for "ready SOCKET"   <-------    print "ready SOCKET"
//	use m.Dir() like EFS                    for each FUSE request, in parallel:
//	                                          count it, wait Delay (DataDelay
//	                                          for read/write), apply the first
//	                                          matching Fault, then do it on
//	                                          backing
//	m.Counts / Reset / SetFaults ------>  control API (HTTP, control.go)
//	m.Close (or this process dies)
//	  stdin pipe closes         ------->  unmount (fusermount3 -uz if busy),
//	                                      remove the socket, exit
//	  fusermount3 -uz if still mounted
//
// The file system never runs in the test process: a FUSE server there can
// deadlock the Go runtime (see Serve).
//
// What is delayed: lookup, getattr (and statx), setattr, open, create (and
// tmpfile), mkdir, mknod, opendir, each readdir request, rename, unlink,
// rmdir, link, symlink, readlink, flush, fsync, fsyncdir, the four xattr
// calls, statfs, lseek and fallocate wait Options.Delay; read and write
// calls wait Options.DataDelay. copy_file_range answers ENOSYS, as on
// NFS 4.1, so the kernel copies through read and write; with
// Options.NoXattrs the xattr calls answer ENOSYS too, as EFS has no xattrs.
// The lookups that READDIRPLUS makes for each entry are free, as NFS
// READDIRPLUS returns attributes in the same call.
//
// FUSE serialises the writes to one file, which the NFS client buffers in
// its page cache and writes back in parallel; with Options.WritebackCache
// the kernel does the same, 1 MiB per call, and close or fsync waits.
//
// The kernel caches attributes and names for Options.AttrTTL and EntryTTL
// (0 = not at all), as the NFS client does for actimeo; Mount.WaitCache
// waits them out between benchmark runs.
//
// Linux only: it needs /dev/fuse and fusermount3 (see Available).
package latencyfs
