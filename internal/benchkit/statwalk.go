package benchkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// StatWalk lstats every entry under root with workers goroutines, each call
// relative to an open directory fd (openat, getdents, fstatat), and returns
// how many entries it saw. It is the floor that a crawler or a no-change
// sync is held to: the metadata calls no tree walk can avoid.
func StatWalk(ctx context.Context, root string, workers int) (int64, error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", root, err)
	}
	w := &walk{ctx: ctx, stack: []int{fd}, pending: 1}
	w.cond = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(w.run)
	}
	wg.Wait()
	return w.seen.Load(), w.err
}

type walk struct {
	ctx     context.Context
	mu      sync.Mutex
	cond    *sync.Cond
	stack   []int // open directory fds to read
	pending int   // directories queued or being read
	err     error
	seen    atomic.Int64
}

func (w *walk) run() {
	buf := make([]byte, 64<<10)
	for {
		w.mu.Lock()
		for len(w.stack) == 0 && w.pending > 0 {
			w.cond.Wait()
		}
		if w.pending == 0 {
			w.mu.Unlock()
			return
		}
		fd := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.mu.Unlock()

		subdirs, err := w.readDir(fd, buf)
		unix.Close(fd)
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.stack = append(w.stack, subdirs...)
		w.pending += len(subdirs) - 1
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

// readDir stats the entries of the directory fd and returns its
// subdirectories, opened.
func (w *walk) readDir(fd int, buf []byte) ([]int, error) {
	var subdirs []int
	for {
		if err := w.ctx.Err(); err != nil {
			return subdirs, err
		}
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return subdirs, fmt.Errorf("getdents: %w", err)
		}
		if n == 0 {
			return subdirs, nil
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return subdirs, fmt.Errorf("fstatat %s: %w", name, err)
			}
			w.seen.Add(1)
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				continue
			}
			sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return subdirs, fmt.Errorf("openat %s: %w", name, err)
			}
			subdirs = append(subdirs, sub)
		}
	}
}
