package efsync

import (
	"context"
	"time"
)

// hardStop returns the context that copies in flight run under. It ends
// grace after ctx does (a graceful stop: running chunks may finish), or at
// once when abort is closed (a second signal). Copies cut short remove
// their temporary files.
func hardStop(ctx context.Context, grace time.Duration, abort <-chan struct{}) (context.Context, context.CancelFunc) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-hard.Done():
			return
		case <-abort:
			cancel()
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-abort:
		case <-hard.Done():
		}
		cancel()
	}()
	return hard, cancel
}
