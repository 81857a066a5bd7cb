package transfer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// RemoveTree removes the directory dir and everything under it, workers
// calls at once, and returns how many entries it removed. Over NFS each
// unlink waits on a round trip, so rm -rf, one call at a time, takes
// hours on a big snapshot; here every directory is listed once, its
// names unlinked in batches by all the workers, and it is removed once
// its last child is. Nothing is followed: each call is relative to a
// directory opened with O_NOFOLLOW, and only dir's parent path is
// resolved. A directory we may not write is given owner rwx first
// (never a file: in a snapshot, files share inodes with other snapshots).
// After an error, what is left stays, to be removed by a later call.
func RemoveTree(ctx context.Context, dir string, workers int) (int64, error) {
	parent, err := unix.Open(filepath.Dir(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("remove %s: %w", dir, err)
	}
	defer unix.Close(parent)
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("remove %s: %w", dir, err)
	}
	r := &treeRemover{parent: parent, open: map[*rmDir]bool{}}
	r.cond = sync.NewCond(&r.mu)
	defer r.closeAll()
	r.push(&rmTask{dir: &rmDir{name: filepath.Base(dir), parent: nil}})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { r.fail(ctx.Err()) })
	defer stop()
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(r.work)
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.removed, fmt.Errorf("remove %s: %w", dir, r.err)
	}
	return r.removed, nil
}

// rmBatch is how many names one task unlinks: enough to keep the queue
// short, few enough that a big flat directory is shared by every worker.
const rmBatch = 128

// treeRemover is the work of one RemoveTree: a stack of tasks (last in,
// first out, so that a subtree is finished before the next is opened, and
// few directories are open at once) shared by the workers.
type treeRemover struct {
	parent int // dir's parent

	mu      sync.Mutex
	cond    *sync.Cond
	tasks   []*rmTask
	busy    int // tasks taken and not finished
	removed int64
	err     error
	done    bool            // no more work: the tree is gone, or an error
	open    map[*rmDir]bool // directories whose fd is open
}

// rmDir is a directory being emptied. It is removed from its parent once
// pending, its listing and its tasks and subdirectories, falls to 0.
type rmDir struct {
	name    string
	parent  *rmDir // nil for the tree's root
	fd      int
	pending int // guarded by treeRemover.mu
}

// rmTask lists dir if names is nil, else unlinks names in it (the
// directory's own fd stays open until it is removed).
type rmTask struct {
	dir   *rmDir
	names []string
}

func (r *treeRemover) push(t *rmTask) {
	r.mu.Lock()
	r.tasks = append(r.tasks, t)
	r.mu.Unlock()
	r.cond.Signal()
}

// fail stops the work with err, unless it is over already.
func (r *treeRemover) fail(err error) {
	r.mu.Lock()
	if !r.done {
		r.err, r.done = err, true
	}
	r.mu.Unlock()
	r.cond.Broadcast()
}

// closeAll closes the directories an error left open.
func (r *treeRemover) closeAll() {
	for d := range r.open {
		unix.Close(d.fd)
	}
}

func (r *treeRemover) work() {
	for {
		r.mu.Lock()
		for len(r.tasks) == 0 && !r.done {
			if r.busy == 0 { // cannot happen: the root would be gone
				r.err, r.done = errors.New("remove: lost track of the tree"), true
				break
			}
			r.cond.Wait()
		}
		if r.done {
			r.mu.Unlock()
			return
		}
		t := r.tasks[len(r.tasks)-1]
		r.tasks = r.tasks[:len(r.tasks)-1]
		r.busy++
		r.mu.Unlock()
		var n int64
		var err error
		if t.names == nil {
			err = r.list(t.dir)
		} else {
			n, err = r.unlink(t.dir, t.names)
		}
		if err != nil {
			r.fail(err)
			return
		}
		r.mu.Lock()
		r.busy--
		r.removed += n
		if t.names != nil {
			r.settle(t.dir)
		}
		r.mu.Unlock()
	}
}

// list opens d, reads it, and queues its names in batches and its
// subdirectories; d stays pending until they are all gone.
func (r *treeRemover) list(d *rmDir) error {
	pfd := r.parent
	if d.parent != nil {
		pfd = d.parent.fd
	}
	fd, err := openForRemoval(pfd, d.name)
	if err != nil {
		return err
	}
	d.fd = fd
	r.mu.Lock()
	r.open[d] = true
	r.mu.Unlock()
	files, dirs, err := readTyped(fd)
	if err != nil {
		return err
	}
	r.mu.Lock()
	d.pending = (len(files)+rmBatch-1)/rmBatch + len(dirs) + 1 // +1: this listing
	for len(files) > 0 {
		k := min(len(files), rmBatch)
		r.tasks = append(r.tasks, &rmTask{dir: d, names: files[:k:k]})
		files = files[k:]
	}
	for _, name := range dirs {
		r.tasks = append(r.tasks, &rmTask{dir: &rmDir{name: name, parent: d}})
	}
	r.settle(d) // the listing is done
	r.mu.Unlock()
	r.cond.Broadcast()
	return nil
}

// unlink removes the non-directory names from d.
func (r *treeRemover) unlink(d *rmDir, names []string) (int64, error) {
	var n int64
	for _, name := range names {
		err := unix.Unlinkat(d.fd, name, 0)
		if errors.Is(err, unix.EACCES) && fixDirMode(d.fd) == nil {
			err = unix.Unlinkat(d.fd, name, 0)
		}
		switch {
		case err == nil:
			n++
		case errors.Is(err, unix.EISDIR):
			return n, fmt.Errorf("%s became a directory while it was removed: %w", name, err)
		case !errors.Is(err, unix.ENOENT):
			return n, err
		}
	}
	return n, nil
}

// settle counts one of d's pending items done; once none is left, d is
// removed from its parent, which settles in turn. r.mu is held.
func (r *treeRemover) settle(d *rmDir) {
	for {
		if d.pending--; d.pending > 0 {
			return
		}
		unix.Close(d.fd)
		delete(r.open, d)
		pfd := r.parent
		if d.parent != nil {
			pfd = d.parent.fd
		}
		// An rmdir under the lock: one call per directory, next to the
		// unlinks of its files, serialises little.
		err := unix.Unlinkat(pfd, d.name, unix.AT_REMOVEDIR)
		if errors.Is(err, unix.EACCES) && fixDirMode(pfd) == nil {
			err = unix.Unlinkat(pfd, d.name, unix.AT_REMOVEDIR)
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			r.err, r.done = fmt.Errorf("%s: %w", d.name, err), true
			r.cond.Broadcast()
			return
		}
		r.removed++
		if d.parent == nil {
			r.done = true
			r.cond.Broadcast()
			return
		}
		d = d.parent
	}
}

// openForRemoval opens the directory name in pfd, giving it owner rwx
// first if we may not read it.
func openForRemoval(pfd int, name string) (int, error) {
	fd, err := unix.Openat(pfd, name, dirFlags, 0)
	if !errors.Is(err, unix.EACCES) {
		return fd, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return -1, unix.ENOTDIR
	}
	if err := unix.Fchmodat(pfd, name, st.Mode&0o7777|0o700, 0); err != nil {
		return -1, err
	}
	return unix.Openat(pfd, name, dirFlags, 0)
}

// fixDirMode gives the directory fd owner rwx, so that we may remove
// names from it.
func fixDirMode(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	return unix.Fchmod(fd, st.Mode&0o7777|0o700)
}
