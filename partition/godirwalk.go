package partition

import (
	"io/fs"

	"github.com/karrick/godirwalk"
	"golang.org/x/sys/unix"
)

// godirwalkFS is sysFS with directories listed by godirwalk's Scanner:
// the portable lister, used where getdents64 is not available, and run by
// the tests on Linux against the same suite as the default.
//
// godirwalk parses the dirents of each platform, skips deleted entries and
// "." and "..", and gives each name's type from d_type (lstat'ing by path
// only when the file system gives none). What it can't do, and why the
// crawl uses golang.org/x/sys/unix around it:
//   - it opens each directory by full path (os.Open): every component is
//     resolved again, a symlink swapped in is followed, and paths beyond
//     PATH_MAX fail. We open with openat(O_NOFOLLOW) relative to the
//     parent, so here it opens a second descriptor of the directory;
//   - it hides its descriptor, so we can't fstatat relative to it: the
//     stats use our own fd;
//   - by default it reads a page (4 KiB) per getdents; we pass bufSize.
type godirwalkFS struct{ sysFS }

func (godirwalkFS) readDir(_ int, dir string, buf []byte, ents []dirent) ([]dirent, error) {
	sc, err := godirwalk.NewScannerWithScratchBuffer(dir, buf)
	if err != nil {
		return ents, err
	}
	for sc.Scan() {
		de, err := sc.Dirent()
		if err != nil {
			sc.Close()
			return ents, err
		}
		ents = append(ents, dirent{name: de.Name(), typ: typeOfMode(de.ModeType())})
	}
	return ents, sc.Err()
}

// typeOfMode returns the S_IFMT bits of the type bits of m.
func typeOfMode(m fs.FileMode) uint32 {
	switch {
	case m&fs.ModeDir != 0:
		return unix.S_IFDIR
	case m&fs.ModeSymlink != 0:
		return unix.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		return unix.S_IFIFO
	case m&fs.ModeSocket != 0:
		return unix.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		return unix.S_IFCHR
	case m&fs.ModeDevice != 0:
		return unix.S_IFBLK
	case m&fs.ModeType == 0:
		return unix.S_IFREG
	}
	return 0
}
