package testtree

import (
	"path"
	"strings"
	"unicode/utf8"
)

// Shape is a hard case a tree can hold. Counts say how many entries (or, for
// hard-link shapes, groups) of each shape a tree has.
type Shape string

// The shapes that the generator makes and Observe recognises.
const (
	ShapeFile            Shape = "file"
	ShapeDir             Shape = "dir"
	ShapeDeepDir         Shape = "deep-dir" // at depth DeepDepth or more
	ShapeBig             Shape = "big"      // dense, BigSize or more
	ShapeSparse          Shape = "sparse"   // holes of SparseHoles bytes or more
	ShapeHugeSparse      Shape = "huge-sparse"
	ShapeSymlinkRelative Shape = "symlink-relative"
	ShapeSymlinkAbsolute Shape = "symlink-absolute"
	ShapeSymlinkDangling Shape = "symlink-dangling"
	ShapeSymlinkToDir    Shape = "symlink-to-dir"
	ShapeHardLinkGroup   Shape = "hardlink-group"
	ShapeHardLinkDistant Shape = "hardlink-distant" // links in different top-level directories
	ShapeFifo            Shape = "fifo"
	ShapeSocket          Shape = "socket"
	ShapeCharDev         Shape = "chardev"
	ShapeBlockDev        Shape = "blockdev"
	ShapeEmptyDir        Shape = "empty-dir"
	ShapeReadOnlyDir     Shape = "readonly-dir"
	ShapeNameSpace       Shape = "name-space"
	ShapeNameNewline     Shape = "name-newline"
	ShapeNameNonUTF8     Shape = "name-non-utf8"
	ShapeName255         Shape = "name-255"
	ShapeNameDash        Shape = "name-dash"
	ShapeXattr           Shape = "xattr-user"
	ShapeXattrTrusted    Shape = "xattr-trusted"
	ShapeACL             Shape = "acl"
	ShapeSetuid          Shape = "setuid"
	ShapeSticky          Shape = "sticky"
	ShapeOtherOwner      Shape = "other-owner"
	ShapeNsMtimeFile     Shape = "ns-mtime-file"
	ShapeNsMtimeDir      Shape = "ns-mtime-dir"
	ShapeNsMtimeSymlink  Shape = "ns-mtime-symlink"
)

// Thresholds of the size shapes.
const (
	DeepDepth   = 20
	BigSize     = 1 << 20
	SparseHoles = 1 << 20
	HugeSize    = 4 << 30
)

// Counts says how many of each shape a tree has.
type Counts map[Shape]int

// facts are what classify needs to know of one entry, whether read from a
// plan or from the disk.
type facts struct {
	path        string // relative, slash-separated
	typ         Type
	mode        uint32
	otherOwner  bool
	size, alloc int64
	mtimeNsec   int64
	target      string
	targetType  Type // what a relative symlink resolves to; 0 when dangling
	xattrs      []string
	empty       bool // a directory with no entries
}

// classify adds the shapes of one entry to c.
func (c Counts) classify(f facts) {
	if f.path == "." {
		return
	}
	add := func(s Shape, ok bool) {
		if ok {
			c[s]++
		}
	}
	switch f.typ {
	case File:
		c[ShapeFile]++
		add(ShapeBig, f.size >= BigSize && f.size-f.alloc < SparseHoles)
		add(ShapeSparse, f.size-f.alloc >= SparseHoles)
		add(ShapeHugeSparse, f.size > HugeSize && f.size-f.alloc >= SparseHoles)
		add(ShapeSetuid, f.mode&0o4000 != 0)
		add(ShapeNsMtimeFile, f.mtimeNsec != 0)
	case Dir:
		c[ShapeDir]++
		add(ShapeDeepDir, strings.Count(f.path, "/")+1 >= DeepDepth)
		add(ShapeEmptyDir, f.empty)
		add(ShapeReadOnlyDir, f.mode&0o200 == 0)
		add(ShapeSticky, f.mode&0o1000 != 0)
		add(ShapeNsMtimeDir, f.mtimeNsec != 0)
	case Symlink:
		add(ShapeSymlinkAbsolute, strings.HasPrefix(f.target, "/"))
		rel := !strings.HasPrefix(f.target, "/")
		add(ShapeSymlinkDangling, rel && f.targetType == 0)
		add(ShapeSymlinkToDir, rel && f.targetType == Dir)
		add(ShapeSymlinkRelative, rel && f.targetType != 0 && f.targetType != Dir)
		add(ShapeNsMtimeSymlink, f.mtimeNsec != 0)
	case Fifo:
		c[ShapeFifo]++
	case Socket:
		c[ShapeSocket]++
	case CharDev:
		c[ShapeCharDev]++
	case BlockDev:
		c[ShapeBlockDev]++
	}
	name := path.Base(f.path)
	add(ShapeNameSpace, strings.Contains(name, " "))
	add(ShapeNameNewline, strings.Contains(name, "\n"))
	add(ShapeNameNonUTF8, !utf8.ValidString(name))
	add(ShapeName255, len(name) == 255)
	add(ShapeNameDash, strings.HasPrefix(name, "-"))
	add(ShapeOtherOwner, f.otherOwner)
	var user, trusted, acl bool
	for _, x := range f.xattrs {
		user = user || strings.HasPrefix(x, "user.")
		trusted = trusted || strings.HasPrefix(x, "trusted.")
		acl = acl || strings.HasPrefix(x, "system.posix_acl_")
	}
	add(ShapeXattr, user)
	add(ShapeXattrTrusted, trusted)
	add(ShapeACL, acl)
}

// classifyGroups adds the hard-link shapes of the given groups: each is the
// set of paths in the tree that share one inode.
func (c Counts) classifyGroups(groups [][]string) {
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		c[ShapeHardLinkGroup]++
		top := func(p string) string { return strings.SplitN(p, "/", 2)[0] }
		for _, p := range g[1:] {
			if top(p) != top(g[0]) {
				c[ShapeHardLinkDistant]++
				break
			}
		}
	}
}
