package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// Config is the configuration of a Daemon.
type Config struct {
	// Plan is what each backup does; its Source and Repo are required.
	Plan orchestrate.Plan
	// Schedule starts the backups (see ParseSchedule).
	Schedule Schedule
	// StartNow starts a backup at once, then follows the schedule.
	StartNow bool
	// Fleet configures the backups; its Clock and Logs are the daemon's.
	Fleet FleetOptions
	// Notifier gets the notices; nil sends none.
	Notifier orchestrate.Notifier
	// MetricsFile, if set, is the Prometheus textfile (Textfile).
	MetricsFile string
	// Socket, if set, is the unix socket `agent stop` reaches the
	// daemon on.
	Socket string
	// Clock defaults to the wall clock.
	Clock Clock
	// Logger gets the daemon's own log.
	Logger *slog.Logger
}

// Daemon runs a Plan on a Schedule, in this process, until stopped.
type Daemon struct {
	// config
	c      Config
	orch   *orchestrate.Orchestrator
	fleet  *Fleet
	events chan orchestrate.Event
}

// NewDaemon checks c and returns its daemon; an error names the bad
// setting.
func NewDaemon(c Config) (*Daemon, error) {
	if c.Schedule == nil {
		return nil, errors.New("daemon: a schedule is required")
	}
	if c.Clock == nil {
		c.Clock = WallClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{c: c, events: make(chan orchestrate.Event, 64)}
	logs := NewLogFiles(c.Plan.Repo)
	c.Fleet.Clock, c.Fleet.Logs = c.Clock, logs
	d.fleet = NewFleet(d.events, c.Fleet)
	b := orchestrate.Backends{Fleet: d.fleet, Commander: d.fleet, Timer: NewTimer(c.Clock, d.events),
		Catalog: efsync.NewFileCatalog(c.Plan.Repo), Logs: logs, Notifier: c.Notifier}
	if c.MetricsFile != "" {
		b.Metrics = Textfile{Path: c.MetricsFile}
	}
	orch, err := orchestrate.New(c.Plan, b, orchestrate.Options{Now: c.Clock.Now, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	d.orch = orch
	return d, nil
}

// Run runs the daemon until ctx is done or a stop request for the daemon
// comes on the socket: then it stops its backups gracefully, records
// them, and returns nil. It returns an error only if it cannot start.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if d.c.Socket != "" {
		ln, err := ListenStop(d.c.Socket)
		if err != nil {
			return err
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			ServeStop(ctx, ln, func(id string) (string, error) { return d.stopRequest(ctx, stop, id) })
		}()
		defer func() { stop(); <-served }() // the stop asked gets its answer
	}
	d.recover(ctx)
	go d.schedule(ctx)
	for {
		select {
		case ev := <-d.events:
			d.handle(ctx, ev)
		case <-ctx.Done():
			d.shutdown(context.WithoutCancel(ctx))
			return nil
		}
	}
}

// handle handles ev, logging a failure: the daemon goes on.
func (d *Daemon) handle(ctx context.Context, ev orchestrate.Event) {
	if _, err := d.orch.Handle(ctx, ev); err != nil {
		d.c.Logger.Error("event", "event", fmt.Sprintf("%T", ev), "id", ev.JobID(), "err", err)
	}
}

// stopRequest answers a stop request of the socket: one backup, or the
// daemon.
func (d *Daemon) stopRequest(ctx context.Context, stopDaemon context.CancelFunc, id string) (string, error) {
	if id == "" {
		d.c.Logger.Info("stop requested on the socket")
		stopDaemon()
		return fmt.Sprintf("stopping the daemon and its backups %v", d.fleet.Running()), nil
	}
	select {
	case d.events <- orchestrate.StopRequested{ID: id, By: "operator"}:
		return "stopping backup " + id, nil
	case <-ctx.Done():
		return "", errors.New("the daemon is stopping")
	}
}

// recover buries the backups of the plan's label that have a record and
// no status: the daemon that ran them died with them.
func (d *Daemon) recover(ctx context.Context) {
	cat := efsync.NewFileCatalog(d.c.Plan.Repo)
	recs, err := cat.List(ctx)
	if err != nil {
		d.c.Logger.Error("list the catalog: dead backups stay unrecorded", "err", err)
		return
	}
	for _, id := range orphans(recs, d.orch.Plan().Label) {
		d.handle(ctx, orchestrate.AgentGone{ID: id, Reason: "the daemon ended while it ran"})
	}
}

// orphans returns the ids of the records of label without a status.
func orphans(recs []efsync.Record, label string) []string {
	var ids []string
	for _, r := range recs {
		if r.Status == "" && r.Label == label {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// schedule sends a ScheduleStart at each of the schedule's times until
// ctx is done.
func (d *Daemon) schedule(ctx context.Context) {
	if d.c.StartNow {
		d.send(ctx, orchestrate.ScheduleStart{At: d.c.Clock.Now()})
	}
	for {
		now := d.c.Clock.Now()
		next := d.c.Schedule.Next(now)
		if next.IsZero() {
			d.c.Logger.Warn("the schedule has no next time")
			return
		}
		fired := make(chan struct{})
		cancel := d.c.Clock.AfterFunc(next.Sub(now), func() { close(fired) })
		select {
		case <-fired:
			d.send(ctx, orchestrate.ScheduleStart{At: next})
		case <-ctx.Done():
			cancel()
			return
		}
	}
}

// send sends ev to the loop, unless ctx is done first.
func (d *Daemon) send(ctx context.Context, ev orchestrate.Event) {
	select {
	case d.events <- ev:
	case <-ctx.Done():
	}
}

// shutdown stops the running backups gracefully and handles events until
// each has reported. No backup starts any more.
func (d *Daemon) shutdown(ctx context.Context) {
	for _, id := range d.fleet.Running() {
		d.handle(ctx, orchestrate.StopRequested{ID: id, By: "daemon stopping"})
	}
	for len(d.fleet.Running()) > 0 { // each sends its report before it leaves the list
		d.handleStopping(ctx, <-d.events)
	}
	d.fleet.Wait()
	for {
		select {
		case ev := <-d.events:
			d.handleStopping(ctx, ev)
		default:
			return
		}
	}
}

// handleStopping handles ev, but a start, while the daemon stops.
func (d *Daemon) handleStopping(ctx context.Context, ev orchestrate.Event) {
	if _, ok := ev.(orchestrate.ScheduleStart); !ok {
		d.handle(ctx, ev)
	}
}
