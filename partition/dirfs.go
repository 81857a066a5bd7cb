package partition

import (
	"github.com/efsync/efsync/internal/sys"
	"golang.org/x/sys/unix"
)

// dirent is a name read from a directory, with the file type the
// directory gave for it (S_IFMT bits, from d_type; 0 if unknown).
type dirent struct {
	name string
	typ  uint32
}

// dirFS is the file system as the crawl uses it: calls relative to open
// directory fds, so that no path is resolved twice and no path length
// limit applies. Implementations MUST be safe for concurrent use and MUST
// return errors that are, or wrap, a unix.Errno, so that transient and
// vanished entries can be told apart. Tests wrap one to inject faults,
// overriding a single method (like restic's duplicateReaddirFS).
type dirFS interface {
	// openRoot opens the root directory, following a symlink: the user
	// named it.
	openRoot(path string) (fd int, err error)
	// openAt opens the directory name in dirfd, never following a
	// symlink.
	openAt(dirfd int, name string) (fd int, err error)
	// readDir appends to ents every name in the freshly opened directory
	// fd but "." and "..", reading it to the end with buf. dir is the
	// directory's full path, for listers that can only open by path.
	readDir(fd int, dir string, buf []byte, ents []dirent) ([]dirent, error)
	// fstat stats the open fd.
	fstat(fd int, st *unix.Stat_t) error
	// statAt lstats name in dirfd.
	statAt(dirfd int, name string, st *unix.Stat_t) error
	// readlinkAt returns the target of the symlink name in dirfd.
	readlinkAt(dirfd int, name string) (string, error)
	// close closes fd.
	close(fd int) error
}

// sysFS is the dirFS of the running system, through golang.org/x/sys/unix.
// Its readDir is getdents64 on Linux (dirent_linux.go) and godirwalk
// elsewhere (godirwalk.go).
type sysFS struct{}

const (
	openDir  = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	openSafe = openDir | unix.O_NOFOLLOW
)

func (sysFS) openRoot(path string) (int, error) { return unix.Open(path, openDir, 0) }

func (sysFS) openAt(dirfd int, name string) (int, error) {
	return unix.Openat(dirfd, name, openSafe, 0)
}

func (sysFS) fstat(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }

func (sysFS) statAt(dirfd int, name string, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
}

func (sysFS) readlinkAt(dirfd int, name string) (string, error) { return sys.ReadlinkAt(dirfd, name) }

func (sysFS) close(fd int) error { return unix.Close(fd) }

// typeOfDT returns the S_IFMT bits of a d_type value: on Linux and the
// BSDs, DT_x is S_IFx >> 12. DT_UNKNOWN gives 0.
func typeOfDT(dt uint8) uint32 { return uint32(dt) << 12 }
