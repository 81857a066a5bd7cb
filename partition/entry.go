package partition

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Entry is one file system entry found by the crawl: what lstat says of
// it, and the error met on it, if any.
//
// Path is the slash path relative to the root, "." for the root itself. It
// holds the name's bytes as the file system gave them: it need not be
// valid UTF-8 and may contain any byte but '/' and NUL in a name.
type Entry struct {
	Path   string
	Mode   uint32 // st_mode: file type and permission bits (S_IFMT | 07777)
	Size   int64  // st_size
	UID    uint32
	GID    uint32
	Mtime  int64  // modification time, ns since the Unix epoch
	Atime  int64  // access time as the crawl saw it, ns since the Unix epoch
	Ctime  int64  // status change time, ns: moved by any chmod, chown or xattr change
	Dev    uint64 // st_dev
	Ino    uint64 // st_ino
	Nlink  uint64 // st_nlink, counting links outside the tree too
	Rdev   uint64 // st_rdev, for devices
	Target string // symlink target, when Options.ReadLinks is set

	// Err is the error met on this entry after retries: a directory that
	// could not be opened or read to the end, or an entry that could not
	// be stat'ed. The other fields are filled as far as they are known (a
	// directory that can't be read still has its lstat). See Incomplete.
	Err error
}

// Incomplete reports whether the source at and under e.Path is not fully
// known: e is an error entry. A mirroring copier MUST NOT delete anything
// at or under e.Path in the destination, since what the source holds
// there is unknown.
func (e *Entry) Incomplete() bool { return e.Err != nil }

// IsDir reports whether e is a directory.
func (e *Entry) IsDir() bool { return e.Mode&unix.S_IFMT == unix.S_IFDIR }

// IsRegular reports whether e is a regular file.
func (e *Entry) IsRegular() bool { return e.Mode&unix.S_IFMT == unix.S_IFREG }

// IsSymlink reports whether e is a symbolic link.
func (e *Entry) IsSymlink() bool { return e.Mode&unix.S_IFMT == unix.S_IFLNK }

// linked reports whether e belongs to a hard-link group: a non-directory
// with more than one link, whose lstat succeeded.
func (e *Entry) linked() bool { return e.Nlink > 1 && !e.IsDir() && e.Err == nil }

// bytes returns the bytes e adds to a chunk: the size of a regular file, 0
// for anything else (a copy moves no data for them).
func (e *Entry) bytes() int64 {
	if e.IsRegular() {
		return e.Size
	}
	return 0
}

// FileMode returns e.Mode as an fs.FileMode, as os.Lstat would give it (for
// kpi.TypeOf, for example).
func (e *Entry) FileMode() fs.FileMode {
	m := fs.FileMode(e.Mode & 0o777)
	switch e.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFREG:
	default:
		m |= fs.ModeIrregular
	}
	if e.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if e.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if e.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// fromStat returns the entry at rel described by st. The conversions let
// the same code build where Stat_t's field types differ (Darwin, BSDs).
func fromStat(rel string, st *unix.Stat_t) Entry {
	return Entry{
		Path:  rel,
		Mode:  uint32(st.Mode),
		Size:  st.Size,
		UID:   st.Uid,
		GID:   st.Gid,
		Mtime: st.Mtim.Nano(),
		Atime: st.Atim.Nano(),
		Ctime: st.Ctim.Nano(),
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Nlink: uint64(st.Nlink),
		Rdev:  uint64(st.Rdev),
	}
}
