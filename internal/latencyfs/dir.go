package latencyfs

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dir is an open loopback directory that delays each READDIR request,
// like an NFS READDIR(PLUS) call, rather than each entry.
type dir struct {
	// config
	ds  fs.FileHandle // the loopback's directory stream
	n   *node
	rel string

	// state
	mu   sync.Mutex
	last context.Context // the request being answered; see Readdirent
}

var (
	_ fs.FileReaddirenter = (*dir)(nil)
	_ fs.FileLookuper     = (*dir)(nil)
	_ fs.FileSeekdirer    = (*dir)(nil)
	_ fs.FileFsyncdirer   = (*dir)(nil)
	_ fs.FileReleasedirer = (*dir)(nil)
)

// Readdirent returns the next entry. go-fuse calls it once per entry with
// one new context per READDIR request, so a new context marks a new
// request: that one is counted and delayed. (Keeping the last context
// alive also keeps its address from being reused by a later request.)
func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	d.mu.Lock()
	first := ctx != d.last
	d.last = ctx
	d.mu.Unlock()
	if first {
		if errno := d.n.pol.meta(ctx, "readdir", d.rel); errno != 0 {
			return nil, errno
		}
	}
	return d.ds.(fs.FileReaddirenter).Readdirent(ctx)
}

// Lookup looks up an entry for READDIRPLUS without counting or delaying
// it: NFS READDIRPLUS returns the attributes in the same call, while
// go-fuse would otherwise send each entry through node.Lookup.
func (d *dir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return d.n.LoopbackNode.Lookup(ctx, name, out)
}

// Seekdir moves to a directory offset (after rewinddir, or a retried
// request).
func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.ds.(fs.FileSeekdirer).Seekdir(ctx, off)
}

// Fsyncdir syncs the backing directory.
func (d *dir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if errno := d.n.pol.meta(ctx, "fsyncdir", d.rel); errno != 0 {
		return errno
	}
	return d.ds.(fs.FileFsyncdirer).Fsyncdir(ctx, flags)
}

// Releasedir closes the backing directory; counted, not delayed, as
// file.Release.
func (d *dir) Releasedir(ctx context.Context, flags uint32) {
	d.n.pol.counts.add("releasedir")
	d.ds.(fs.FileReleasedirer).Releasedir(ctx, flags)
}
