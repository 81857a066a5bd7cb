package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/aws"
)

// Lifecycle completes the terminate lifecycle actions of the group's
// instances, with CONTINUE: on AWS, CompleteLifecycleAction. The agent
// completes its own after it has flushed; the handler only as a
// fallback. Complete MUST be harmless for an action already completed,
// or for an instance with none.
type Lifecycle interface {
	Complete(ctx context.Context, instance string) error
}

// Deps are what a Handler works through: the orchestrator's backends
// (orchestrate/aws on AWS) and the group's lifecycle actions.
type Deps struct {
	Backends  orchestrate.Backends
	Lifecycle Lifecycle
}

// HandlerOptions are the options of NewHandler; the zero value is valid.
type HandlerOptions struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
}

// Handler handles the orchestrator Lambda's invocations. It keeps no
// state between them: every decision is taken from the Catalog, so one
// Handler serves any number of invocations, concurrently as far as its
// backends allow.
type Handler struct {
	// config
	cfg    Config
	d      Deps
	backup *orchestrate.Orchestrator
	opts   HandlerOptions
}

// Result is what an invocation returns: the kind of event, the ids of the
// jobs it was about (the new one for a start or a restore) and a note.
type Result struct {
	Event string   `json:"event"`
	IDs   []string `json:"ids,omitempty"`
	Note  string   `json:"note,omitempty"`
}

// NewHandler returns the handler of cfg over d.
func NewHandler(cfg Config, d Deps, opts HandlerOptions) (*Handler, error) {
	if d.Lifecycle == nil {
		return nil, errors.New("handler: a Lifecycle is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, d: d, opts: opts}
	var err error
	h.backup, err = h.orchestrator(cfg.Plan)
	return h, err
}

// orchestrator returns an orchestrator of plan over the handler's
// backends.
func (h *Handler) orchestrator(plan orchestrate.Plan) (*orchestrate.Orchestrator, error) {
	return orchestrate.New(plan, h.d.Backends, orchestrate.Options{Now: h.opts.Now, Logger: h.opts.Logger})
}

// Handle handles one invocation's payload. A payload it can't decode, or
// an event that fails, returns an error, which Lambda retries.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (Result, error) {
	req, err := decode(payload)
	if err != nil {
		h.opts.Logger.Error("bad event", "err", err)
		return Result{}, err
	}
	res := Result{Event: req.kind()}
	switch r := req.(type) {
	case startReq:
		res.IDs, res.Note, err = h.start(ctx, r.At)
	case windowEndReq:
		res.IDs, err = []string{r.ID}, h.handle(ctx, nil, orchestrate.WindowEnd{ID: r.ID})
	case terminatingReq:
		res.IDs, res.Note, err = h.terminating(ctx, r)
	case terminatedReq:
		res.IDs, res.Note, err = h.terminated(ctx, r)
	case restoreReq:
		res.IDs, err = h.restore(ctx, r)
	}
	log := h.opts.Logger.With("event", res.Event, "ids", res.IDs, "note", res.Note)
	if err != nil {
		log.Error("event failed", "err", err)
		return res, err
	}
	log.Info("event handled")
	return res, nil
}

// handle hands ev to the orchestrator of its job: the restore plan's for
// a restore job, else the backup plan's. recs, if not nil, holds the
// job's record; else it is read.
func (h *Handler) handle(ctx context.Context, recs map[string]efsync.Record, ev orchestrate.Event) error {
	rec, ok := recs[ev.JobID()]
	if !ok {
		rec, _ = h.d.Backends.Catalog.Get(ctx, ev.JobID()) // unknown: the orchestrator ignores it
	}
	o := h.backup
	if rec.Label == restoreLabel {
		var err error
		if o, err = h.orchestrator(h.restorePlan(rec.Source, rec.Repo)); err != nil {
			return err
		}
	}
	_, err := o.Handle(ctx, ev)
	return err
}

// start starts the backup scheduled at at, unless a job still runs:
// first it ends the jobs whose worker must be dead. A start whose slot
// (label and time) a backup holds already is a second delivery of one
// event (EventBridge delivers at least once; Lambda retries): it is
// handled, by the first, so it succeeds without a retry.
func (h *Handler) start(ctx context.Context, at time.Time) ([]string, string, error) {
	recs, err := h.records(ctx)
	if err != nil {
		return nil, "", err
	}
	if id := slotHolder(values(recs), h.cfg.Plan.Label, at); id != "" {
		return []string{id}, "started already: a repeated event", nil
	}
	if err := h.idle(ctx); err != nil {
		return nil, "", fmt.Errorf("start the backup of %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	id, err := h.backup.Handle(ctx, orchestrate.ScheduleStart{At: at})
	if errors.Is(err, aws.ErrClaimed) { // a concurrent delivery of this event won
		return nil, "started already: a repeated event", nil
	}
	return []string{id}, "", err
}

// idle returns an error if a job runs; it ends those that are stale.
func (h *Handler) idle(ctx context.Context) error {
	recs, err := h.records(ctx)
	if err != nil {
		return err
	}
	running, stale := triage(values(recs), h.opts.Now(), h.cfg.Plan.Window)
	var errs []error
	for _, id := range stale {
		errs = append(errs, h.handle(ctx, recs, orchestrate.AgentGone{ID: id, Reason: "no report an hour after its window"}))
	}
	if len(running) > 0 {
		errs = append(errs, fmt.Errorf("job %s still runs", running[0]))
	}
	return errors.Join(errs...)
}

// terminating handles the terminate lifecycle action of an instance: the
// SSM stop of its running jobs. With none to stop, or when the stop
// can't be sent, it completes the action itself: the agent is done, or
// can't be told (its job is then buried once the instance is gone).
func (h *Handler) terminating(ctx context.Context, r terminatingReq) ([]string, string, error) {
	if r.Group != h.cfg.Resources.Group {
		return nil, "another group's instance: ignored", nil
	}
	recs, err := h.records(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := runningOn(values(recs), r.Instance)
	if len(ids) == 0 {
		return nil, "no job runs there: lifecycle action completed", h.d.Lifecycle.Complete(ctx, r.Instance)
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, h.handle(ctx, recs, orchestrate.StopRequested{ID: id, By: "lifecycle hook of " + r.Instance}))
	}
	if err := errors.Join(errs...); err != nil {
		return ids, "the stop failed: lifecycle action completed", errors.Join(err, h.d.Lifecycle.Complete(ctx, r.Instance))
	}
	return ids, "stop sent", nil
}

// terminated handles an instance that is gone: its jobs are finished
// (metrics, notice) or, with no status, buried.
func (h *Handler) terminated(ctx context.Context, r terminatedReq) ([]string, string, error) {
	if r.Group != h.cfg.Resources.Group {
		return nil, "another group's instance: ignored", nil
	}
	recs, err := h.records(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := goneWith(values(recs), r.Instance)
	var errs []error
	for _, id := range ids {
		errs = append(errs, h.handle(ctx, recs, orchestrate.AgentGone{ID: id, Reason: "instance " + r.Instance + " terminated"}))
	}
	return ids, "", errors.Join(errs...)
}

// restore starts a restore job of r, if the backup it names has a
// snapshot and no job runs.
func (h *Handler) restore(ctx context.Context, r restoreReq) ([]string, error) {
	rec, err := h.d.Backends.Catalog.Get(ctx, r.ID)
	if errors.Is(err, efsync.ErrNotFound) {
		return nil, fmt.Errorf("restore: no backup %s", r.ID)
	} else if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if why := restorable(rec); why != "" {
		return nil, fmt.Errorf("restore: backup %s: %s", r.ID, why)
	}
	if err := h.idle(ctx); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	spec := r.ID
	if r.Path != "." {
		spec += "/" + r.Path
	}
	o, err := h.orchestrator(h.restorePlan(spec, path.Join(h.cfg.Plan.Source, r.Target)))
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	id, err := o.Handle(ctx, orchestrate.ScheduleStart{At: h.opts.Now()})
	return []string{id}, err
}

// restorePlan returns the plan of a restore of spec (ID[/PATH]) into
// target, within the backups' window, on one agent: a restore is not
// shared. Its notice goes out whatever its status: someone asked for it.
func (h *Handler) restorePlan(spec, target string) orchestrate.Plan {
	return orchestrate.Plan{Label: restoreLabel, Source: spec, Repo: target,
		Window: h.cfg.Plan.Window, Margin: h.cfg.Plan.Margin, NotifySuccess: true, Agents: 1}
}

// records returns the Catalog's records by id.
func (h *Handler) records(ctx context.Context) (map[string]efsync.Record, error) {
	list, err := h.d.Backends.Catalog.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the catalog: %w", err)
	}
	recs := make(map[string]efsync.Record, len(list))
	for _, r := range list {
		recs[r.ID] = r
	}
	return recs, nil
}

// values returns the records of recs sorted by id.
func values(recs map[string]efsync.Record) []efsync.Record {
	out := make([]efsync.Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b efsync.Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}
