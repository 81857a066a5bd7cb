package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate/aws"
)

// A job the group's agents share (jobOptions.Queue) has one leader, which
// runs it as a single agent would and publishes its chunks, and workers,
// which copy them until the job's record has a status. The leader works
// too: N agents are N copying NFS clients.

// role is what an agent does for its job.
type role int

const (
	roleNone    role = iota // no job: release the instance
	roleLead                // run the job (alone, when jobs are not shared)
	roleWork                // copy the leader's chunks
	roleUnknown             // the election failed: leave the job alone
)

// role returns this agent's role in job, which ok says it found: with a
// queue, the agent whose conditional write wins (cloud.Leader) leads.
func (o jobOptions) role(ctx context.Context, c cloud, job efsync.Record, ok bool, log *slog.Logger) role {
	if !ok {
		return roleNone
	}
	if o.Queue == nil || c.Leader == nil {
		return roleLead
	}
	leader, err := c.Leader.Lead(ctx, job.ID, c.Instance)
	switch {
	case errors.Is(err, aws.ErrEnded) || errors.Is(err, efsync.ErrNotFound):
		log.Info("the job ended before this agent joined it", "job", job.ID)
		return roleNone
	case err != nil:
		log.Error("elect the job's leader", "job", job.ID, "err", err)
		return roleUnknown
	case leader == c.Instance:
		log.Info("this agent leads the job", "job", job.ID)
		return roleLead
	}
	log.Info("this agent works for the job's leader", "job", job.ID, "leader", leader)
	return roleWork
}

// work copies the chunks of job that its leader publishes, until the
// job's record has a status, its window ends, or a stop. It returns the
// exit code, and whether the job has ended (then the group may be scaled
// in). Its log goes to the job's log folder, a part of its own.
func (o jobOptions) work(e *env, c cloud, job efsync.Record, console slog.Handler) (int, bool) {
	log, closeLog := openJobLog(e.ctx, c.Logs, job.ID, "worker "+c.Instance, console)
	defer closeLog()
	ctx, cancel := context.WithDeadline(e.ctx, job.Start.Add(o.Window))
	defer cancel()
	var ended atomic.Bool
	go poll(ctx, o.JobPoll, false, func() bool {
		rec, err := c.Catalog.Get(ctx, job.ID)
		if err != nil {
			log.Warn("read the job's record", "err", err) // the window still bounds the work
			return false
		}
		if rec.Status == "" {
			return false
		}
		log.Info("the job has ended", "status", rec.Status)
		ended.Store(true)
		cancel()
		return true
	})
	eo := o.Engine
	eo.Logger, eo.WorkerID, eo.Job = log, c.Instance, job.ID
	log.Info("worker starts", "job", job.ID, "deadline", job.Start.Add(o.Window))
	if err := efsync.Work(ctx, o.Queue, efsync.WithOptions(eo)); err != nil {
		log.Error("worker failed", "err", err)
		return 4, ended.Load()
	}
	log.Info("worker ends", "job ended", ended.Load())
	return 0, ended.Load()
}

// workAlong runs a worker of eo's job in the leader, until the returned
// function is called: the leader copies too.
func (o jobOptions) workAlong(ctx context.Context, eo efsync.Options, instance string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	wo := eo
	wo.Queue, wo.WorkerID = nil, instance
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := efsync.Work(ctx, eo.Queue, efsync.WithOptions(wo)); err != nil {
			eo.Logger.Error("the leader's worker failed: the other agents copy on", "err", err)
		}
	})
	return func() { cancel(); wg.Wait() }
}
