package latencyfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// readyTimeout bounds how long the child may take to mount.
const readyTimeout = 30 * time.Second

// exitTimeout bounds how long Close waits for the child to unmount and
// exit before it kills it.
const exitTimeout = 10 * time.Second

// Mount is a running latencyfs child process and its mount. Its methods
// are safe for concurrent use.
type Mount struct {
	// config
	dir string
	ttl time.Duration // longest kernel cache TTL

	// state
	cmd     *exec.Cmd
	stdin   io.WriteCloser // closing it stops the child
	client  *http.Client   // set once ready
	stderr  *tail
	watch   *readyWatch
	exited  chan struct{} // closed when the child has exited; then waitErr is set
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// StartProcess starts cmd/latencyfs to mount backing on mountpoint (an
// existing empty directory) and waits until the mount works. ctx bounds
// the start (including go build); the child then runs until Close, or
// until this process exits, whatever the way: the child watches its stdin
// pipe from this process and unmounts itself when the pipe breaks.
//
// It is for programs such as a benchmark command; tests use Start.
func StartProcess(ctx context.Context, backing, mountpoint string, opt Options) (*Mount, error) {
	if err := validate(opt.Faults); err != nil {
		return nil, err
	}
	bin, err := findBinary(ctx, opt.Binary)
	if err != nil {
		return nil, err
	}
	backing, err = filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	mountpoint, err = filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	m, err := spawn(bin, backing, mountpoint, opt)
	if err != nil {
		return nil, err
	}
	if err := m.awaitReady(ctx); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	return m, nil
}

// spawn starts the child.
func spawn(bin, backing, mountpoint string, opt Options) (*Mount, error) {
	optJSON, err := json.Marshal(opt)
	if err != nil {
		return nil, fmt.Errorf("latencyfs options: %w", err)
	}
	m := &Mount{
		dir:    mountpoint,
		ttl:    opt.maxTTL(),
		stderr: &tail{max: 64 << 10},
		watch:  newReadyWatch(),
		exited: make(chan struct{}),
	}
	// The child makes its control socket, so that it can remove it
	// when this process dies.
	m.cmd = exec.Command(bin, "-backing", backing, "-mount", mountpoint, "-options", string(optJSON))
	m.cmd.Stdout = m.watch
	m.cmd.Stderr = m.stderr
	if m.stdin, err = m.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("latencyfs: %w", err)
	}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("latencyfs: %w", err)
	}
	go func() {
		m.waitErr = m.cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// awaitReady waits for the child's ready line.
func (m *Mount) awaitReady(ctx context.Context) error {
	t := time.NewTimer(readyTimeout)
	defer t.Stop()
	select {
	case <-m.watch.ready:
		m.client = newClient(m.watch.sock)
		return nil
	case <-m.exited: // Close reports how, with the child's stderr
		return errors.New("latencyfs exited before mounting")
	case <-t.C:
		return fmt.Errorf("latencyfs did not mount within %v:\n%s", readyTimeout, m.stderr)
	case <-ctx.Done():
		return fmt.Errorf("latencyfs start: %w", ctx.Err())
	}
}

// Dir returns the mountpoint.
func (m *Mount) Dir() string { return m.dir }

// Output returns the end of the child's stderr (go-fuse's messages), for
// test logs.
func (m *Mount) Output() string { return m.stderr.String() }

// WaitCache sleeps until every attribute and entry the kernel cached
// before the call has expired, so that the next run (of a benchmark)
// reaches the file system as a cold NFS client would. The 50 ms on top
// cover the kernel's rounding of TTLs to clock ticks.
func (m *Mount) WaitCache() {
	if m.ttl > 0 {
		time.Sleep(m.ttl + 50*time.Millisecond)
	}
}

// Close unmounts and stops the child; it is safe to call more than once.
// It stops the child the way the death of this process would, by closing
// the child's stdin, so every test exercises that path. If the child does
// not exit within exitTimeout it is killed, and a mount left behind is
// detached with fusermount3 -uz.
func (m *Mount) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Mount) close() error {
	var errs []error
	m.stdin.Close() // only error: already closed
	t := time.NewTimer(exitTimeout)
	defer t.Stop()
	select {
	case <-m.exited:
		if m.waitErr != nil {
			errs = append(errs, fmt.Errorf("latencyfs child: %w:\n%s", m.waitErr, m.stderr))
		}
	case <-t.C:
		m.cmd.Process.Kill() // only error: already exited
		<-m.exited
		errs = append(errs, fmt.Errorf("latencyfs child did not exit within %v, killed:\n%s", exitTimeout, m.stderr))
	}
	if err := ensureUnmounted(m.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
