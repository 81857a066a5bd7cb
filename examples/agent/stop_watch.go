package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// stopRequests tells whether the orchestrator asked a job to stop: on
// AWS, aws.Catalog.StopRequested, which its Commander records before its
// SSM command, as SSM sends nothing to an instance still booting.
type stopRequests interface {
	StopRequested(ctx context.Context, id string) (time.Time, bool, error)
}

// watchStop calls stop, as agent stop would, once the job id's stop
// request is in reqs: before it returns if the request came before the
// job began, else at a poll every d. It returns the function that ends the watch; a nil
// reqs watches nothing.
func watchStop(ctx context.Context, reqs stopRequests, id string, d time.Duration, log *slog.Logger, stop func()) (end func()) {
	if reqs == nil || stop == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	check := func() bool {
		at, asked, err := reqs.StopRequested(ctx, id)
		switch {
		case err != nil:
			log.Warn("read the job's stop request", "err", err) // agent stop still reaches this run
		case asked:
			log.Info("stop requested in the catalog", "at", at)
			stop()
		}
		return asked
	}
	if check() { // before the job begins: it copies nothing
		cancel()
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() { poll(ctx, d, false, check) })
	return func() { cancel(); wg.Wait() }
}

// poll calls check, at once if now, then every d, until it returns true
// or ctx is done.
func poll(ctx context.Context, d time.Duration, now bool, check func() bool) {
	if now && check() {
		return
	}
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if check() {
				return
			}
		}
	}
}
