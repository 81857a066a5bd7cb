package latencyfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node whose every operation first goes through the
// mount's policy (count, delay, fault), then to the embedded
// fs.LoopbackNode. The loopback creates children as plain LoopbackNodes;
// WrapChild wraps each of them, so the whole tree is nodes.
//
// The one loopback method node does not override, Readdir, is never
// called: go-fuse prefers OpendirHandle.
type node struct {
	*fs.LoopbackNode
	pol *policy
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeLookuper    = (*node)(nil)
	_ fs.NodeMkdirer     = (*node)(nil)
	_ fs.NodeMknoder     = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeTmpfiler    = (*node)(nil)
	_ fs.NodeSymlinker   = (*node)(nil)
	_ fs.NodeLinker      = (*node)(nil)
	_ fs.NodeReadlinker  = (*node)(nil)
	_ fs.NodeRenamer     = (*node)(nil)
	_ fs.NodeUnlinker    = (*node)(nil)
	_ fs.NodeRmdirer     = (*node)(nil)
)

// newRoot returns the root node of a loopback of backing.
func newRoot(backing string, pol *policy) (*node, error) {
	root, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, err
	}
	return &node{LoopbackNode: root.(*fs.LoopbackNode), pol: pol}, nil
}

// WrapChild wraps each new loopback child in a node (fs.NodeWrapChilder).
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	lb, ok := ops.(*fs.LoopbackNode)
	if !ok { // the loopback creates only LoopbackNodes; leave anything else alone
		return ops
	}
	return &node{LoopbackNode: lb, pol: n.pol}
}

// rel returns the slash path of name in n ("" = n itself) relative to the
// mount root, for fault matching. It returns "" when no fault is set, to
// spare the walk up the tree.
func (n *node) rel(name string) string {
	if !n.pol.faulty() {
		return ""
	}
	return join(n.Path(nil), name)
}

// relOf is rel for another node of the mount.
func (n *node) relOf(other fs.InodeEmbedder, name string) string {
	if !n.pol.faulty() {
		return ""
	}
	return join(other.EmbeddedInode().Path(nil), name)
}

func join(dir, name string) string {
	switch {
	case name == "":
		return dir
	case dir == "":
		return name
	}
	return dir + "/" + name
}

// Lookup resolves name, one NFS LOOKUP.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.pol.meta(ctx, "lookup", n.rel(name)); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Lookup(ctx, name, out)
}

// Mkdir creates a directory.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.pol.meta(ctx, "mkdir", n.rel(name)); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Mkdir(ctx, name, mode, out)
}

// Mknod creates a fifo, socket or device node.
func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.pol.meta(ctx, "mknod", n.rel(name)); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
}

// Create creates and opens a file; the handle counts and delays its reads
// and writes.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	rel := n.rel(name)
	if errno := n.pol.meta(ctx, "create", rel); errno != 0 {
		return nil, nil, 0, errno
	}
	ch, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, n.pol.backingFlags(flags), mode, out)
	return ch, wrapFile(fh, n.pol, rel), fuseFlags, errno
}

// Tmpfile opens an unnamed file (O_TMPFILE), counted as "create".
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	rel := n.rel("")
	if errno := n.pol.meta(ctx, "create", rel); errno != 0 {
		return nil, nil, 0, errno
	}
	ch, fh, fuseFlags, errno := n.LoopbackNode.Tmpfile(ctx, n.pol.backingFlags(flags), mode, out)
	return ch, wrapFile(fh, n.pol, rel), fuseFlags, errno
}

// Symlink creates a symbolic link.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.pol.meta(ctx, "symlink", n.rel(name)); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Symlink(ctx, target, name, out)
}

// Link creates a hard link name to target; a fault matches either path.
func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.pol.meta(ctx, "link", n.relOf(target, ""), n.rel(name)); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}

// Readlink reads a symbolic link.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if errno := n.pol.meta(ctx, "readlink", n.rel("")); errno != 0 {
		return nil, errno
	}
	return n.LoopbackNode.Readlink(ctx)
}

// Rename renames name to newName in newParent; a fault matches either path.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if errno := n.pol.meta(ctx, "rename", n.rel(name), n.relOf(newParent, newName)); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

// Unlink removes a non-directory.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if errno := n.pol.meta(ctx, "unlink", n.rel(name)); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

// Rmdir removes an empty directory.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if errno := n.pol.meta(ctx, "rmdir", n.rel(name)); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Rmdir(ctx, name)
}
