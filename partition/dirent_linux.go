package partition

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The layout of struct linux_dirent64, as getdents64(2) fills it.
const (
	direntIno    = 0  // u64 d_ino
	direntReclen = 16 // u16 d_reclen
	direntType   = 18 // u8 d_type
	direntName   = 19 // d_name, NUL-terminated, padded to 8 bytes
)

// readDir reads fd with getdents64 into buf until the end and appends the
// names to ents. A large buf (see bufSize) means few calls for big
// directories; godirwalk reads a page at a time and can't read an fd it
// didn't open, hence this reader of our own.
func (sysFS) readDir(fd int, _ string, buf []byte, ents []dirent) ([]dirent, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return ents, err
		}
		if n <= 0 {
			return ents, nil
		}
		ents = parseDirents(buf[:n], ents)
	}
}

// parseDirents appends the entries of the getdents64 records in b to ents,
// leaving out ".", ".." and deleted entries (inode 0). It is a pure
// function and stops at a malformed record.
func parseDirents(b []byte, ents []dirent) []dirent {
	for len(b) >= direntName {
		reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
		if reclen <= direntName || reclen > len(b) {
			return ents
		}
		rec := b[:reclen]
		b = b[reclen:]
		if binary.NativeEndian.Uint64(rec[direntIno:]) == 0 {
			continue
		}
		name := rec[direntName:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		ents = append(ents, dirent{name: string(name), typ: typeOfDT(rec[direntType])})
	}
	return ents
}

// defaultFS returns the dirFS used when Options leave it unset.
func defaultFS() dirFS { return sysFS{} }
