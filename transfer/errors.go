package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// FatalError stops a run: the destination is full, over quota or read-only,
// so no later entry can succeed either. Check with errors.As.
type FatalError struct {
	Path string
	Err  error
}

func (e *FatalError) Error() string { return fmt.Sprintf("%s: %v (stopping)", e.Path, e.Err) }
func (e *FatalError) Unwrap() error { return e.Err }

// errChanged is returned when a source file changed while it was copied.
var errChanged = errors.New("source changed while being copied")

// fatal reports whether err means the destination can take no more.
func fatal(err error) bool {
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) || errors.Is(err, unix.EROFS)
}

// transient reports whether err may go away if the call is tried again, as
// NFS errors during a server failover do.
func transient(err error) bool {
	for _, e := range []unix.Errno{unix.EIO, unix.ESTALE, unix.ETIMEDOUT, unix.EAGAIN, unix.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.Is(err, errChanged)
}

// retry runs f until it succeeds, fails for good, or has been retried
// retries times, waiting backoff, then twice as long, between tries.
func retry(ctx context.Context, retries int, backoff time.Duration, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if err == nil || i >= retries || !transient(err) || fatal(err) {
			return err
		}
		t := time.NewTimer(backoff << i)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// wrapErr wraps err once with op and the entry's path. Context errors and
// FatalErrors pass through untouched.
func wrapErr(op, rel string, err error) error {
	var fe *FatalError
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, rel, err)
}
