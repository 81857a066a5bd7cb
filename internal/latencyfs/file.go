package latencyfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// file is an open loopback file whose reads and writes are counted,
// delayed and faulted by the policy. It holds no lock: go-fuse calls it
// from many goroutines at once, and pread and pwrite at offsets need none,
// so parallel requests stay parallel.
//
// It delegates each method explicitly instead of embedding the
// *fs.LoopbackFile, so that it does not implement FilePassthroughFder:
// with passthrough the kernel would read and write the backing file
// directly, and those calls would never reach the policy. It also leaves
// out locks (the kernel keeps them, as the mount does not enable them)
// and ioctl, so FICLONE fails as it does on EFS.
type file struct {
	// config
	lf  *fs.LoopbackFile
	pol *policy
	rel string // path at open time, for faults; "" if no fault was set
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileWriter    = (*file)(nil)
	_ fs.FileWritever  = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileFsyncer   = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
	_ fs.FileSetattrer = (*file)(nil)
	_ fs.FileStatxer   = (*file)(nil)
	_ fs.FileLseeker   = (*file)(nil)
	_ fs.FileAllocater = (*file)(nil)
)

// wrapFile wraps a handle returned by the loopback; nil stays nil.
func wrapFile(fh fs.FileHandle, pol *policy, rel string) fs.FileHandle {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok {
		return fh
	}
	return &file{lf: lf, pol: pol, rel: rel}
}

// Read reads into buf here rather than splicing from the descriptor later,
// so that the bytes counted are the bytes returned.
func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if errno := f.pol.data(ctx, "read", f.rel, off+int64(len(buf))); errno != 0 {
		return nil, errno
	}
	res, errno := f.lf.Read(ctx, buf, off)
	if errno != 0 {
		return nil, errno
	}
	data, st := res.Bytes(buf)
	res.Done()
	if !st.Ok() {
		return nil, syscall.Errno(st)
	}
	f.pol.counts.addRead(len(data))
	return fuse.ReadResultData(data), 0
}

// Write writes data at off; Fault.AfterBytes compares off+len(data).
func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	defer f.pol.counts.startWrite()()
	if errno := f.pol.data(ctx, "write", f.rel, off+int64(len(data))); errno != 0 {
		return 0, errno
	}
	n, errno := f.lf.Write(ctx, data, off)
	f.pol.counts.addWritten(int(n))
	return n, errno
}

// Writev is Write for a request the kernel sent in pieces.
func (f *file) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	defer f.pol.counts.startWrite()()
	var size int64
	for _, b := range data {
		size += int64(len(b))
	}
	if errno := f.pol.data(ctx, "write", f.rel, off+size); errno != 0 {
		return 0, errno
	}
	n, errno := f.lf.Writev(ctx, data, off)
	f.pol.counts.addWritten(int(n))
	return n, errno
}

// Flush runs on every close(2) of a descriptor, synchronously.
func (f *file) Flush(ctx context.Context) syscall.Errno {
	if errno := f.pol.meta(ctx, "flush", f.rel); errno != 0 {
		return errno
	}
	return f.lf.Flush(ctx)
}

// Fsync syncs the backing file.
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if errno := f.pol.meta(ctx, "fsync", f.rel); errno != 0 {
		return errno
	}
	return f.lf.Fsync(ctx, flags)
}

// Release closes the backing descriptor. It is counted but neither
// delayed nor faulted: the kernel sends it after close(2) has returned,
// so nobody would see the delay or the error.
func (f *file) Release(ctx context.Context) syscall.Errno {
	f.pol.counts.add("release")
	return f.lf.Release(ctx)
}

// Lseek answers SEEK_DATA and SEEK_HOLE (the kernel does other seeks
// itself).
func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	if errno := f.pol.meta(ctx, "lseek", f.rel); errno != 0 {
		return 0, errno
	}
	return f.lf.Lseek(ctx, off, whence)
}

// Allocate is fallocate(2).
func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if errno := f.pol.meta(ctx, "fallocate", f.rel); errno != 0 {
		return errno
	}
	return f.lf.Allocate(ctx, off, size, mode)
}

// Getattr, Setattr and Statx are reached only through the node methods
// (which the bridge prefers and which already count and delay), so they
// just delegate.

// Getattr is fstat on the descriptor.
func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Getattr(ctx, out)
}

// Setattr changes attributes through the descriptor.
func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Setattr(ctx, in, out)
}

// Statx is statx on the descriptor.
func (f *file) Statx(ctx context.Context, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	return f.lf.Statx(ctx, flags, mask, out)
}
