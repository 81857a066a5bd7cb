package testtree

import (
	"fmt"
	"time"
)

// Type is the kind of a file system entry.
type Type uint8

// The entry types a tree can hold.
const (
	File Type = iota + 1
	Dir
	Symlink
	Fifo
	Socket
	CharDev
	BlockDev
)

var typeNames = [...]string{"?", "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev"}

// String returns the type's name, such as "file".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Entry declares one entry of a tree. Paths are slash-separated and relative
// to the tree's root; "." is the root itself. A path is a string of bytes: it
// may hold any byte but '/' and NUL, and need not be UTF-8.
type Entry struct {
	Path string
	Type Type
	// Mode holds the permission bits with setuid, setgid and sticky (07777).
	Mode uint32
	// UID and GID are the owner; -1 keeps the creating process's.
	UID, GID int
	Mtime    time.Time

	// Size is a file's length. Its bytes are generated from Seed; only the
	// ranges in Data hold data, the rest are holes. Nil Data means one
	// extent over the whole file.
	Size int64
	Seed uint64
	Data []Extent

	// Target is a symlink's target, verbatim.
	Target string
	// LinkOf names an earlier file entry: this entry is a hard link to it
	// and has no metadata of its own.
	LinkOf string
	// Xattrs maps extended attribute names to values; ACLs are the
	// system.posix_acl_access and system.posix_acl_default attributes.
	Xattrs map[string]string
	// Rdev is a device's number, as unix.Mkdev makes it.
	Rdev uint64
}

// Extent is a range of a file that holds data.
type Extent struct{ Off, Len int64 }

// extents returns e's data ranges, one covering the file when Data is nil.
func (e *Entry) extents() []Extent {
	if e.Data != nil {
		return e.Data
	}
	if e.Size == 0 {
		return nil
	}
	return []Extent{{0, e.Size}}
}

// allocated returns how many bytes of e hold data.
func (e *Entry) allocated() int64 {
	var n int64
	for _, x := range e.extents() {
		n += x.Len
	}
	return n
}

// Tree is a declared tree: entries in creation order, parents first.
type Tree struct {
	Entries []Entry
}
