package transfer

import (
	"sync"

	"golang.org/x/sys/unix"
)

// inflight is the set of temporary files being written, so that Abandon
// can remove them while their workers are stuck.
type inflight struct {
	mu sync.Mutex
	m  map[tempRef]struct{}
}

// tempRef names a temporary file: its name in an open directory fd.
type tempRef struct {
	dirfd int
	name  string
}

func (f *inflight) add(dirfd int, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[tempRef]struct{}{}
	}
	f.m[tempRef{dirfd, name}] = struct{}{}
}

func (f *inflight) remove(dirfd int, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, tempRef{dirfd, name})
}

// Abandon starts removing the temporary files of the copies still in
// flight, without waiting, and returns how many there are. It is for a
// caller that cancelled Run and won't wait for it: its workers are stuck
// in calls that the file system doesn't answer (a hung NFS server, say).
// The removals may block behind those calls (the kernel holds the file's
// lock during a write), and a process that exits first leaves the files
// for a later run to clean up. The stuck copies fail when their calls
// return, and rename nothing.
func (c *Copier) Abandon() int {
	c.temps.mu.Lock()
	defer c.temps.mu.Unlock()
	n := len(c.temps.m)
	for r := range c.temps.m {
		go unix.Unlinkat(r.dirfd, r.name, 0)
		delete(c.temps.m, r)
	}
	return n
}
