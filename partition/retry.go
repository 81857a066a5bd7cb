package partition

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// retryDelay is the wait before the first retry; it doubles each time.
const retryDelay = 10 * time.Millisecond

// transient reports whether err may go away when the call is repeated:
// an interrupted call, a busy server, a stale NFS handle, or an I/O error
// (NFS reports a timed-out request as EIO, and EFS can return it for a
// moment during a failover). It is a pure function.
func transient(err error) bool {
	return errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) ||
		errors.Is(err, unix.ESTALE) || errors.Is(err, unix.EIO)
}

// vanished reports whether err says the entry is gone.
func vanished(err error) bool { return errors.Is(err, unix.ENOENT) }

// retry calls f until it succeeds, fails with an error that is not
// transient, or has been retried retries times (-1: not at all). It waits
// between attempts, retryDelay then twice as long each time, and returns
// ctx's error if ctx is done during a wait.
func retry(ctx context.Context, retries int, f func() error) error {
	delay := retryDelay
	for i := 0; ; i++ {
		err := f()
		if err == nil || !transient(err) || i >= retries {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		delay *= 2
	}
}

// pathError returns err as an *os.PathError naming op and the relative
// path, so that every error entry says where and what. An error that
// carries no errno is wrapped as it is.
func pathError(op, rel string, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return &os.PathError{Op: op, Path: rel, Err: errno}
	}
	return fmt.Errorf("%s %s: %w", op, rel, err)
}
