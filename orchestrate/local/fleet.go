package local

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// FleetOptions are the options of NewFleet.
type FleetOptions struct {
	// Engine is the template of each backup's engine options (Workers,
	// Grace, Abort, Excludes, RequireMount...); Deadline and Logger are
	// set per backup.
	Engine efsync.Options
	// MaxShrink, Force and LockWait are as in efsync.BackupOptions.
	MaxShrink float64
	Force     bool
	LockWait  time.Duration
	// Clock is the clock of the jobs' deadlines; the default is the wall
	// clock.
	Clock Clock
	// Logs gets each backup's log (slog JSON); nil keeps none.
	Logs orchestrate.LogStore
}

// Fleet runs backups in this process, with efsync.Backup: it is the
// local orchestrate.Fleet and orchestrate.Commander. Each backup ends with
// an AgentReport sent to the fleet's events channel. It is safe for
// concurrent use; Wait waits for the backups it started.
type Fleet struct {
	// config
	o      FleetOptions
	events chan<- orchestrate.Event

	// state
	mu   sync.Mutex
	runs map[string]context.CancelFunc // running backups, by id
	wg   sync.WaitGroup
}

var (
	_ orchestrate.Fleet     = (*Fleet)(nil)
	_ orchestrate.Commander = (*Fleet)(nil)
)

// NewFleet returns a fleet that reports to events.
func NewFleet(events chan<- orchestrate.Event, o FleetOptions) *Fleet {
	if o.Clock == nil {
		o.Clock = WallClock()
	}
	return &Fleet{o: o, events: events, runs: map[string]context.CancelFunc{}}
}

// Start starts job's backup on a goroutine and returns. The backup runs
// until it ends, its deadline passes, or Stop; ctx's end does not stop
// it.
func (f *Fleet) Start(ctx context.Context, job orchestrate.Job) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.mu.Lock()
	f.runs[job.ID] = cancel
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer cancel()
		rec, err := f.backup(ctx, job)
		// Reported before the run leaves the list: whoever sees the list
		// empty has every report in the channel.
		f.events <- orchestrate.AgentReport{ID: job.ID, Record: rec, Err: err}
		f.mu.Lock()
		delete(f.runs, job.ID)
		f.mu.Unlock()
	}()
	return nil
}

// backup runs job's backup, its log in the LogStore.
func (f *Fleet) backup(ctx context.Context, job orchestrate.Job) (*efsync.Record, error) {
	o := f.o.Engine
	o.Deadline = realDeadline(job.Deadline, f.o.Clock.Now(), time.Now())
	o.Logger = slog.New(slog.DiscardHandler)
	if f.o.Logs != nil {
		if w, err := f.o.Logs.Open(ctx, job.ID); err == nil {
			defer w.Close()
			o.Logger = slog.New(slog.NewJSONHandler(w, nil)).With("by", "agent", "id", job.ID)
		}
	}
	o.Logger.Info("backup starts", "source", job.Plan.Source, "repo", job.Plan.Repo, "deadline", o.Deadline)
	rec, err := efsync.Backup(ctx, job.Plan.Source, job.Plan.Repo, efsync.BackupOptions{Options: o,
		Label: job.Plan.Label, Keep: job.Plan.Keep, ID: job.ID,
		MaxShrink: f.o.MaxShrink, Force: f.o.Force, LockWait: f.o.LockWait})
	if rec != nil {
		o.Logger.Info("backup ended", "status", rec.Status, "reason", rec.Reason, "files", rec.Files, "snapshot", rec.Snapshot)
	} else {
		o.Logger.Error("backup ended without a record", "err", err)
	}
	return rec, err
}

// Stop asks the backup id to stop gracefully, as a first signal does:
// nothing new starts, copies in flight may finish within the grace
// period. It does nothing for an id that doesn't run.
func (f *Fleet) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cancel := f.runs[id]; cancel != nil {
		cancel()
	}
	return nil
}

// Running returns the ids of the backups running, sorted.
func (f *Fleet) Running() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.runs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Wait waits until every backup started has reported.
func (f *Fleet) Wait() { f.wg.Wait() }
