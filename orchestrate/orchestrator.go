package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// Options are the options of New. The zero value is valid.
type Options struct {
	// Now is the clock; the default is time.Now.
	Now func() time.Time
	// Logger gets the orchestrator's own log; each job's lifecycle also
	// goes to its log in the LogStore.
	Logger *slog.Logger
}

// Orchestrator runs the lifecycle of a Plan's backups over Backends. It
// keeps no state between events: all of it is in the Catalog, so that a
// new Orchestrator, in a new process, handles any event an old one would
// have. Handle is safe for concurrent use as far as the backends are, but
// two events about one job should be handled one after the other, as
// each reads its record, then writes it.
type Orchestrator struct {
	// config
	plan Plan
	b    Backends
	now  func() time.Time
	log  *slog.Logger
}

// New returns an Orchestrator of plan over b, or an error naming what is
// missing.
func New(plan Plan, b Backends, opts Options) (*Orchestrator, error) {
	if err := plan.validate(); err != nil {
		return nil, err
	}
	if b.Fleet == nil || b.Timer == nil || b.Commander == nil || b.Catalog == nil {
		return nil, errors.New("orchestrate: Fleet, Timer, Commander and Catalog are required")
	}
	if plan.Label == "" {
		plan.Label = efsync.DefaultLabel
	}
	if b.Logs == nil {
		b.Logs = discardLogs{}
	}
	if b.Notifier == nil {
		b.Notifier = nopNotifier{}
	}
	if b.Metrics == nil {
		b.Metrics = nopMetrics{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Orchestrator{plan: plan, b: b, now: opts.Now, log: opts.Logger}, nil
}

// Plan returns the plan o runs, with its defaults.
func (o *Orchestrator) Plan() Plan { return o.plan }

// Handle reacts to ev and returns the id of the job it was about: the new
// one for a ScheduleStart. An event that needs nothing done (a stop that
// comes twice, late or for an unknown id; a repeated report) returns nil.
func (o *Orchestrator) Handle(ctx context.Context, ev Event) (string, error) {
	if s, ok := ev.(ScheduleStart); ok {
		return o.start(ctx, s.At)
	}
	id := ev.JobID()
	cur, err := o.b.Catalog.Get(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, efsync.ErrNotFound) {
		return id, fmt.Errorf("orchestrate: %T %s: %w", ev, id, err)
	}
	st := stateOf(cur, found)
	act := decide(st, ev)
	o.log.Info("event", "event", fmt.Sprintf("%T", ev), "id", id, "state", st, "action", act)
	if act == ignore {
		return id, nil
	}
	jl := o.jobLog(ctx, id)
	defer jl.close()
	jl.Info("event", "event", fmt.Sprintf("%T", ev), "state", st.String(), "action", act.String())
	switch act {
	case scaleIn:
		err = o.b.Fleet.Stop(ctx, id)
	case command:
		err = o.b.Commander.Stop(ctx, id)
	case settle:
		err = o.settle(ctx, jl, settled(cur, found, ev.(AgentReport), o.now()))
	case bury:
		err = o.settle(ctx, jl, buried(cur, ev.(AgentGone).Reason, o.now()))
	case finish:
		err = o.finish(ctx, jl, cur)
	}
	if err != nil {
		jl.Error("event failed", "err", err)
		return id, fmt.Errorf("orchestrate: %s %s: %w", act, id, err)
	}
	return id, nil
}

// start makes a job of the plan at at: its record first, so that a run
// that dies before anything else still has one, then its window's stop
// event, then its worker.
func (o *Orchestrator) start(ctx context.Context, at time.Time) (string, error) {
	id := efsync.NewBackupID(at)
	rec := efsync.Record{ID: id, Label: o.plan.Label, Source: o.plan.Source, Repo: o.plan.Repo, Start: at.UTC()}
	if err := o.b.Catalog.Put(ctx, rec); err != nil {
		return id, fmt.Errorf("orchestrate: record %s: %w", id, err)
	}
	jl := o.jobLog(ctx, id)
	defer jl.close()
	job := Job{ID: id, Plan: o.plan, Start: at}
	if o.plan.Window > 0 {
		job.Deadline = at.Add(o.plan.Window)
	}
	jl.Info("scheduled", "label", o.plan.Label, "source", o.plan.Source, "repo", o.plan.Repo, "deadline", job.Deadline)
	o.log.Info("scheduled", "id", id, "deadline", job.Deadline)
	var err error
	if o.plan.Window > 0 {
		err = o.b.Timer.Set(ctx, id, job.Deadline.Add(-o.plan.Margin))
	}
	if err == nil {
		err = o.b.Fleet.Start(ctx, job)
	}
	if err != nil {
		now := o.now().UTC()
		rec.Status, rec.Reason, rec.Stop = kpi.StatusFailed, fmt.Sprintf("start the backup: %v", err), now
		rec.Phases = append(rec.Phases, kpi.Phase{Name: PhaseStartFailed, Start: now, Stop: now})
		jl.Error("start failed", "err", err)
		errs := []error{err, o.settle(ctx, jl, rec)}
		if r, ok := o.b.Catalog.(SlotReleaser); ok { // after the record: a retry must find it ended
			errs = append(errs, r.ReleaseSlot(ctx, rec))
		}
		return id, errors.Join(errs...)
	}
	return id, nil
}

// settle puts rec, the job's final record, then finishes it.
func (o *Orchestrator) settle(ctx context.Context, jl jobLog, rec efsync.Record) error {
	if err := o.b.Catalog.Put(ctx, rec); err != nil {
		return err
	}
	return o.finish(ctx, jl, rec)
}

// finish releases an ended job's timer and worker, publishes its metrics,
// sends its notice, and marks its record reported. The mark comes last:
// a finish that fails is done again, whole, by the next report or gone
// event of the job (a notice may then go out twice, never not at all).
func (o *Orchestrator) finish(ctx context.Context, jl jobLog, rec efsync.Record) error {
	begin := o.now().UTC()
	jl.Info("ended", "status", rec.Status, "reason", rec.Reason, "files", rec.Files, "bytes", rec.Bytes)
	o.log.Info("ended", "id", rec.ID, "status", rec.Status, "reason", rec.Reason)
	var errs []error
	if err := o.b.Timer.Cancel(ctx, rec.ID); err != nil {
		errs = append(errs, fmt.Errorf("cancel the window's timer: %w", err))
	}
	if err := o.b.Fleet.Stop(ctx, rec.ID); err != nil {
		errs = append(errs, fmt.Errorf("release the worker: %w", err))
	}
	if err := o.b.Metrics.Publish(ctx, rec); err != nil {
		errs = append(errs, fmt.Errorf("metrics: %w", err))
	}
	if wantsNotice(rec.Status, o.plan.NotifySuccess) {
		if err := o.b.Notifier.Notify(ctx, noticeOf(rec, o.b.Logs.Where(rec.ID))); err != nil {
			errs = append(errs, fmt.Errorf("notice: %w", err))
		} else {
			jl.Info("notice sent", "status", rec.Status)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	done := o.now().UTC()
	rec.Phases = append(rec.Phases, kpi.Phase{Name: PhaseReported, Start: begin, Stop: done, Seconds: done.Sub(begin).Seconds()})
	return o.b.Catalog.Put(ctx, rec)
}
