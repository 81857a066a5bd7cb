package partition

import (
	"sync"

	"golang.org/x/sys/unix"
)

// faultFS is a dirFS that fails chosen calls: before each call it asks
// fail with the operation and the relative path of the entry. It tracks
// the path of each directory fd it opens. A readDir it fails returns the
// first half of the names with the error, as a read cut off half-way does.
type faultFS struct {
	dirFS
	fail func(op, rel string) error

	mu    sync.Mutex
	paths map[int]string
	calls map[string]int // "op rel" → calls made
}

func newFaultFS(fail func(op, rel string) error) *faultFS {
	return &faultFS{dirFS: defaultFS(), fail: fail, paths: map[int]string{}, calls: map[string]int{}}
}

// rel returns the relative path of name in the directory fd.
func (f *faultFS) rel(fd int, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return join(f.paths[fd], name)
}

// check counts the call and returns the error fail chose for it.
func (f *faultFS) check(op, rel string) error {
	f.mu.Lock()
	f.calls[op+" "+rel]++
	f.mu.Unlock()
	return f.fail(op, rel)
}

// count returns how many times op was called on rel.
func (f *faultFS) count(op, rel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op+" "+rel]
}

func (f *faultFS) opened(fd int, rel string, err error) (int, error) {
	if err == nil {
		f.mu.Lock()
		f.paths[fd] = rel
		f.mu.Unlock()
	}
	return fd, err
}

func (f *faultFS) openRoot(path string) (int, error) {
	if err := f.check("open", "."); err != nil {
		return -1, err
	}
	fd, err := f.dirFS.openRoot(path)
	return f.opened(fd, ".", err)
}

func (f *faultFS) openAt(dirfd int, name string) (int, error) {
	rel := f.rel(dirfd, name)
	if err := f.check("open", rel); err != nil {
		return -1, err
	}
	fd, err := f.dirFS.openAt(dirfd, name)
	return f.opened(fd, rel, err)
}

func (f *faultFS) readDir(fd int, dir string, buf []byte, ents []dirent) ([]dirent, error) {
	f.mu.Lock()
	rel := f.paths[fd]
	f.mu.Unlock()
	all, err := f.dirFS.readDir(fd, dir, buf, ents)
	if ferr := f.check("getdents", rel); ferr != nil {
		return all[:len(ents)+(len(all)-len(ents))/2], ferr
	}
	return all, err
}

func (f *faultFS) statAt(dirfd int, name string, st *unix.Stat_t) error {
	if err := f.check("lstat", f.rel(dirfd, name)); err != nil {
		return err
	}
	return f.dirFS.statAt(dirfd, name, st)
}

func (f *faultFS) close(fd int) error {
	f.mu.Lock()
	delete(f.paths, fd)
	f.mu.Unlock()
	return f.dirFS.close(fd)
}

// recorder is a Reporter that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	errors   map[string]error
	vanished []string
}

func (r *recorder) Error(rel string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errors == nil {
		r.errors = map[string]error{}
	}
	r.errors[rel] = err
}

func (r *recorder) Vanished(rel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vanished = append(r.vanished, rel)
}
