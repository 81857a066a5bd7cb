package manifest

import (
	"cmp"
	"encoding/binary"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/zeebo/xxh3"
)

// Type is an entry's file type.
type Type uint8

// The types of entries. TypeUnknown is for records that carry only a path,
// as in a Sorter of paths, and for what none of the others describes.
const (
	TypeUnknown Type = iota
	TypeFile
	TypeDir
	TypeSymlink
	TypeCharDev
	TypeBlockDev
	TypeFIFO
	TypeSocket

	maxType = TypeSocket
)

var typeNames = [...]string{"unknown", "file", "dir", "symlink", "chardev", "blockdev", "fifo", "socket"}

// String returns the type's name: "file", "dir", "symlink", "chardev",
// "blockdev", "fifo", "socket" or "unknown".
func (t Type) String() string {
	if t > maxType {
		return "type(" + strconv.Itoa(int(t)) + ")"
	}
	return typeNames[t]
}

// TypeOf returns the Type of an fs.FileMode, as from os.Lstat.
func TypeOf(m fs.FileMode) Type {
	switch t := m.Type(); {
	case t == 0:
		return TypeFile
	case t&fs.ModeDir != 0:
		return TypeDir
	case t&fs.ModeSymlink != 0:
		return TypeSymlink
	case t&fs.ModeCharDevice != 0:
		return TypeCharDev
	case t&fs.ModeDevice != 0:
		return TypeBlockDev
	case t&fs.ModeNamedPipe != 0:
		return TypeFIFO
	case t&fs.ModeSocket != 0:
		return TypeSocket
	}
	return TypeUnknown
}

// ModeOf returns the Unix permission bits of an fs.FileMode, setuid (04000),
// setgid (02000) and sticky (01000) included, as Record.Mode stores them.
// (fs.FileMode keeps those three bits elsewhere.)
func ModeOf(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// Record is one entry of a snapshot. Its zero value, with a Path, is a
// path-only record.
type Record struct {
	// Path is the entry's path relative to the snapshot's root, with
	// slashes, clean (path.Clean leaves it alone), without a leading
	// slash or "..": "." is the root, "a/b" an entry of directory "a".
	Path string
	// Type is the entry's file type; the permission bits are in Mode.
	Type Type
	// Mode is the Unix permission bits, st_mode&07777: rwx for user,
	// group and other, plus setuid, setgid and sticky (see ModeOf).
	Mode uint32
	// UID and GID are the numeric owner and group.
	UID, GID uint32
	// Size is the length in bytes: of the content for a file, of the
	// target for a symlink, as lstat reports it for the others.
	Size int64
	// Mtime is the modification time in ns since the Unix epoch.
	Mtime int64
	// Hash is the xxh3-128 of a file's content, in the byte order of
	// xxh3.Uint128.Bytes (big-endian). It is meaningful only when HasHash
	// is set: a zero Hash is a valid digest.
	Hash [16]byte
	// HasHash tells whether Hash holds the content's digest. It is false
	// for non-files and for files whose content was not read.
	HasHash bool
	// Xattrs is XattrHash of the entry's extended attributes; zero when
	// it has none or they were not read.
	Xattrs [16]byte
	// Target is a symlink's target, as readlink returns it; "" otherwise.
	Target string
	// Rdev is a device's number (st_rdev) for TypeCharDev and
	// TypeBlockDev; 0 otherwise.
	Rdev uint64
}

// Compare orders paths as a manifest does: the root "." first, then by
// path components, each compared byte-wise. That is byte-wise order with
// '/' below every other byte, so a directory's entries follow it without a
// gap: ".", "a", "a/b", "a/c", "a.b", "ab". It returns -1, 0 or +1.
//
// Every sorted stream in this package uses this order: Reader, Sorter,
// Writer and Join.
func Compare(a, b string) int {
	if a == "." || b == "." {
		switch {
		case a == b:
			return 0
		case a == ".":
			return -1
		}
		return +1
	}
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return +1
		}
		if ca < cb {
			return -1
		}
		return +1
	}
	return cmp.Compare(len(a), len(b))
}

// validPath reports whether p is a path a Record may carry: clean,
// relative and inside the root. It is checked on Add so that Compare's
// order is the order of a tree: a NUL byte or "a//b" would break it.
func validPath(p string) bool {
	if p == "." {
		return true
	}
	return p != "" && path.Clean(p) == p && p[0] != '/' && p != ".." &&
		!strings.HasPrefix(p, "../") && !strings.ContainsRune(p, 0)
}

// XattrHash returns the digest Record.Xattrs stores for a set of extended
// attributes: the xxh3-128 of the names in byte order, each followed by its
// value, both length-prefixed. No attributes give the zero digest, so a
// record without xattrs stores nothing for them.
func XattrHash(attrs map[string][]byte) [16]byte {
	if len(attrs) == 0 {
		return [16]byte{}
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	h := xxh3.New()
	var buf []byte
	for _, name := range names {
		buf = binary.AppendUvarint(buf[:0], uint64(len(name)))
		buf = append(buf, name...)
		buf = binary.AppendUvarint(buf, uint64(len(attrs[name])))
		h.Write(buf)
		h.Write(attrs[name])
	}
	return h.Sum128().Bytes()
}
