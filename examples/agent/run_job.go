package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// restoreLabel is the label of restore jobs, as examples/lambda writes
// them: Source is "ID[/PATH]" in the snapshots, Repo the new directory.
const restoreLabel = "restore"

// jobOptions are the options of runJob.
type jobOptions struct {
	// Engine is the template of the copy's options; Deadline, Logger and
	// Abort are set per job.
	Engine efsync.Options
	// Backup holds Keep, MaxShrink, Force and LockWait.
	Backup efsync.BackupOptions
	// Window bounds a job: its deadline is its scheduled start plus
	// Window.
	Window time.Duration
	// CompleteWait bounds the tries to complete the lifecycle action;
	// Poll spaces them (default 10 s).
	CompleteWait, Poll time.Duration
	StateDir           string
	Verbose, AsJSON    bool
	// Queue, if set, shares each backup job with the group's other
	// agents (shared_job.go): the one that wins cloud.Leader runs it and
	// publishes its chunks here; every agent copies them.
	Queue efsync.Queue
	// JobPoll is how often a worker reads its job's record, to end with
	// it, and the agent that runs a job its stop request (default 15 s).
	JobPoll time.Duration
	// Now is the clock; the default is time.Now.
	Now func() time.Time
}

// runJob runs the job the orchestrator started this instance for, then
// releases the instance, and returns the exit code of the job. The log
// is flushed before the record with a status is written: to the
// orchestrator, a status means that all is out.
func runJob(e *env, c cloud, o jobOptions) int {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = 10 * time.Second
	}
	if o.JobPoll <= 0 {
		o.JobPoll = 15 * time.Second
	}
	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelInfo
	}
	console := slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})
	log := slog.New(console)
	var mine runningJob
	defer listenStop(e, o.StateDir, log, mine.accept)()
	// The job is read, and claimed, even after a signal: so that its
	// record says it was stopped.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), time.Minute)
	defer cancel()
	recs, err := c.Catalog.List(cctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "run: read the jobs: %v\n", err)
		return 4
	}
	job, ok := pickJob(recs, c.Instance, o.Now(), o.Window, o.Queue != nil)
	mine.set(job.ID)
	code, scaleIn := 0, true
	switch o.role(cctx, c, job, ok, log) {
	case roleLead:
		code = o.run(e, c, job, console)
	case roleWork: // the group is the leader's to scale in, until the job ends
		code, scaleIn = o.work(e, c, job, console)
	case roleNone:
		log.Warn("no job for this instance: releasing it", "instance", c.Instance)
	case roleUnknown:
		code, scaleIn = 4, false
	}
	release(e, c, o, scaleIn, log)
	return code
}

// runningJob is the id of the job agent run runs, for its stop socket:
// the SSM stop is agent stop --id ID. It is safe for concurrent use.
type runningJob struct {
	mu sync.Mutex
	id string // "" before the job is picked
}

func (j *runningJob) set(id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.id = id
}

// accept takes a stop request for id: "" (any), or the job's id. Before
// the job is picked, it takes any: the job then ends stopped.
func (j *runningJob) accept(id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if id != "" && j.id != "" && id != j.id {
		return fmt.Errorf("this agent runs job %s, not %s", j.id, id)
	}
	return nil
}

// run claims job, runs it, and writes its log and its record.
func (o jobOptions) run(e *env, c cloud, job efsync.Record, console slog.Handler) int {
	ctx := e.ctx
	job.Host = c.Instance
	log, closeLog := openJobLog(ctx, c.Logs, job.ID, "agent", console)
	if err := putRecord(ctx, c.Catalog, job); err != nil {
		log.Error("claim the job", "err", err)
	}
	endWatch := watchStop(ctx, c.Stops, job.ID, o.JobPoll, log, e.stop)
	eo := o.Engine
	eo.Deadline, eo.Logger, eo.Abort = job.Start.Add(o.Window), log, e.abort
	log.Info("job starts", "label", job.Label, "source", job.Source, "repo", job.Repo, "deadline", eo.Deadline, "instance", c.Instance)
	var rec efsync.Record
	if job.Label == restoreLabel {
		rec = o.restore(ctx, c.Catalog, job, eo)
	} else {
		stopWork := func() {}
		if o.Queue != nil { // shared: this agent leads, and works too
			eo.Queue, eo.Job = o.Queue, job.ID
			stopWork = o.workAlong(ctx, eo, c.Instance)
		}
		rec = o.backup(ctx, job, eo)
		stopWork()
	}
	endWatch()
	rec.Host = c.Instance
	log.Info("job ended", "status", rec.Status, "reason", rec.Reason, "files", rec.Files, "bytes", rec.Bytes, "snapshot", rec.Snapshot)
	closeLog()
	if err := putRecord(ctx, c.Catalog, rec); err != nil {
		slog.New(console).Error("write the job's record", "err", err)
	}
	o.print(e.stdout, &rec)
	return rec.Status.ExitCode()
}

// openJobLog returns a logger to console and to a new part of job id's
// log in logs, its lines tagged by, and the function that flushes it.
func openJobLog(ctx context.Context, logs orchestrate.LogStore, id, by string, console slog.Handler) (*slog.Logger, func()) {
	w, err := logs.Open(ctx, id)
	if err != nil {
		log := slog.New(console)
		log.Error("open the job's log: it goes to stderr only", "err", err)
		return log, func() {}
	}
	tags := []slog.Attr{slog.String("by", by), slog.String("id", id)}
	return slog.New(slog.NewMultiHandler(console, slog.NewJSONHandler(w, nil).WithAttrs(tags))), func() {
		if err := w.Close(); err != nil {
			slog.New(console).Error("upload the job's log", "err", err)
		}
	}
}

// putRecord puts rec within a minute, even after a signal.
func putRecord(ctx context.Context, cat efsync.Catalog, rec efsync.Record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return cat.Put(ctx, rec)
}

// backup runs a backup job.
func (o jobOptions) backup(ctx context.Context, job efsync.Record, eo efsync.Options) efsync.Record {
	bo := o.Backup
	bo.Options, bo.Label, bo.ID = eo, job.Label, job.ID
	got, err := efsync.Backup(ctx, job.Source, job.Repo, bo)
	return finalRecord(job, got, err, o.Now())
}

// restore runs a restore job: into a new directory, deleting nothing.
func (o jobOptions) restore(ctx context.Context, cat efsync.Catalog, job efsync.Record, eo efsync.Options) efsync.Record {
	id, sub, _ := strings.Cut(job.Source, "/")
	b, err := cat.Get(context.WithoutCancel(ctx), id)
	if err == nil { // the new directory's parents, if missing: nothing else is written outside it
		err = os.MkdirAll(filepath.Dir(job.Repo), 0o755)
	}
	if err != nil {
		return finalRecord(job, nil, fmt.Errorf("restore: %w", err), o.Now())
	}
	rep, err := efsync.Restore(ctx, b.Repo, id, sub, job.Repo, efsync.RestoreOptions{Options: eo})
	return restoreRecord(job, rep, err, o.Now())
}

// print writes rec for people, or as JSON.
func (o jobOptions) print(w io.Writer, rec *efsync.Record) {
	if o.AsJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rec)
		return
	}
	if rec.Report.Start.IsZero() { // the job ended before its copy began
		fmt.Fprintf(w, "Job %s (%s): %s: %s\n", rec.ID, rec.Label, rec.Status, rec.Reason)
		return
	}
	writeRecord(w, rec)
}

// release scales the group in, if scaleIn, and completes this instance's
// terminate lifecycle action, trying until it is done, CompleteWait has
// passed or a second signal comes: the action only waits once the group
// has begun to terminate the instance.
func release(e *env, c cloud, o jobOptions, scaleIn bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), o.CompleteWait)
	defer cancel()
	if scaleIn {
		if err := c.Fleet.Stop(ctx, ""); err != nil {
			log.Error("scale the group in", "err", err)
		}
	}
	for {
		err := c.Lifecycle.Complete(ctx, c.Instance)
		if err == nil {
			log.Info("lifecycle action completed", "instance", c.Instance)
			return
		}
		select {
		case <-time.After(o.Poll):
		case <-ctx.Done():
			log.Warn("lifecycle action not completed: its heartbeat timeout will", "err", err)
			return
		case <-e.abort:
			return
		}
	}
}

// pickJob returns the job of this instance among recs at now: one it
// claimed (an agent restarted), else the newest that no agent claimed,
// or that another claimed if jobs are shared; either running (no status)
// and within its window. It is a pure function.
func pickJob(recs []efsync.Record, instance string, now time.Time, window time.Duration, shared bool) (efsync.Record, bool) {
	var pick efsync.Record
	found := false
	for _, r := range recs { // sorted by id, so by start
		if r.Status != "" || !now.Before(r.Start.Add(window)) || (r.Host != "" && r.Host != instance && !shared) {
			continue
		}
		if !found || pick.Host != instance || r.Host == instance {
			pick, found = r, true
		}
	}
	return pick, found
}

// finalRecord returns the record of job once it ended: the engine's
// record, if it has a status; else job's, with the status its error
// means (Incomplete for a stop, else Failed) and it as the reason. It is
// a pure function.
func finalRecord(job efsync.Record, got *efsync.Record, err error, now time.Time) efsync.Record {
	if got != nil && got.Status != "" {
		return *got
	}
	job.Status, job.Reason, job.Stop = kpi.StatusFailed, "the job ended without a status", now.UTC()
	if err != nil {
		job.Reason = err.Error()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			job.Status = kpi.StatusIncomplete
		}
	}
	return job
}

// restoreRecord returns the record of restore job from its report. It is
// a pure function.
func restoreRecord(job efsync.Record, rep *kpi.Report, err error, now time.Time) efsync.Record {
	if rep == nil {
		return finalRecord(job, nil, err, now)
	}
	job.Status, job.Stop, job.Report = rep.Status, now.UTC(), *rep
	job.Files = rep.Files.Created + rep.Files.Updated + rep.Files.HardLinked + rep.Files.Unchanged + rep.Files.MetadataOnly
	job.Bytes = rep.Bytes.Scanned
	for _, er := range rep.Errors.First {
		job.Failed = append(job.Failed, er.Path)
	}
	if err != nil {
		job.Reason = err.Error()
	}
	return job
}
