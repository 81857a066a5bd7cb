package latencyfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var (
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeStatxer        = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeGetxattrer     = (*node)(nil)
	_ fs.NodeSetxattrer     = (*node)(nil)
	_ fs.NodeListxattrer    = (*node)(nil)
	_ fs.NodeRemovexattrer  = (*node)(nil)
	_ fs.NodeStatfser       = (*node)(nil)
	_ fs.NodeCopyFileRanger = (*node)(nil)
)

// Getattr reads attributes, one NFS GETATTR. With an open file it uses
// fstat on the file's descriptor, as the loopback does.
func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if errno := n.pol.meta(ctx, "getattr", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Getattr(ctx, inner(f), out)
}

// Statx is Getattr for kernels that ask with statx; counted as "getattr"
// because NFS has only the one call.
func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if errno := n.pol.meta(ctx, "getattr", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Statx(ctx, inner(f), flags, mask, out)
}

// Setattr changes mode, owner, size or times (with nanoseconds).
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.pol.meta(ctx, "setattr", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Setattr(ctx, inner(f), in, out)
}

// Open opens a file; the handle counts and delays its reads and writes.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	rel := n.rel("")
	if errno := n.pol.meta(ctx, "open", rel); errno != 0 {
		return nil, 0, errno
	}
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, n.pol.backingFlags(flags))
	if errno == syscall.EACCES && n.pol.backingFlags(flags) != flags {
		// A write-only file (mode 0200) for a caller other than
		// root: open it as asked; a write that covers part of a page
		// not in the cache then fails with EIO.
		fh, fuseFlags, errno = n.LoopbackNode.Open(ctx, flags)
	}
	return wrapFile(fh, n.pol, rel), fuseFlags, errno
}

// OpendirHandle opens a directory for reading; the handle delays each
// READDIR request (see dir).
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	rel := n.rel("")
	if errno := n.pol.meta(ctx, "opendir", rel); errno != 0 {
		return nil, 0, errno
	}
	fh, fuseFlags, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dir{ds: fh, n: n, rel: rel}, fuseFlags, 0
}

// Getxattr reads an extended attribute (user.*, trusted.*, security.*,
// system.posix_acl_*) of the backing file. With Options.NoXattrs this and
// the other xattr calls answer ENOSYS (see policy.xattr).
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if errno := n.pol.xattr(ctx, "getxattr", n.rel("")); errno != 0 {
		return 0, errno
	}
	return n.LoopbackNode.Getxattr(ctx, attr, dest)
}

// Setxattr sets an extended attribute.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if errno := n.pol.xattr(ctx, "setxattr", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Setxattr(ctx, attr, data, flags)
}

// Listxattr lists extended attribute names.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	if errno := n.pol.xattr(ctx, "listxattr", n.rel("")); errno != 0 {
		return 0, errno
	}
	return n.LoopbackNode.Listxattr(ctx, dest)
}

// Removexattr removes an extended attribute.
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if errno := n.pol.xattr(ctx, "removexattr", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Removexattr(ctx, attr)
}

// Statfs reports the backing file system's space.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	if errno := n.pol.meta(ctx, "statfs", n.rel("")); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Statfs(ctx, out)
}

// CopyFileRange answers ENOSYS, as EFS (NFS 4.1, which has no COPY) does:
// the kernel then copies through read and write, and stops asking this
// mount. Counted but not delayed, because the NFS client would answer
// without a round trip.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut, length, flags uint64) (uint32, syscall.Errno) {
	n.pol.counts.add("copy_file_range")
	return 0, syscall.ENOSYS
}

// inner returns the loopback handle inside one of ours, for the loopback
// methods that type-assert it (to fstat the descriptor, for example).
func inner(f fs.FileHandle) fs.FileHandle {
	switch h := f.(type) {
	case *file:
		return h.lf
	case *dir:
		return h.ds
	}
	return f
}
