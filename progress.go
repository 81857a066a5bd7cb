package efsync

import (
	"time"

	"github.com/efsync/efsync/kpi"
)

// startProgress calls o.Progress with a snapshot of c every
// o.ProgressEvery until the returned stop is called.
func startProgress(o *Options, c *kpi.Counters) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(o.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.Progress(c.Report())
			}
		}
	}()
	return func() { close(done); <-finished }
}
