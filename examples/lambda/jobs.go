package main

import (
	"slices"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// restoreLabel is the label of restore jobs' records. A restore job's
// record has Source "ID/PATH" (the snapshot and the path in it, as
// `agent restore` takes them) and Repo the target directory: what it
// reads, and where it writes.
const restoreLabel = "restore"

// settleTime is how long after its window a job with no status, or after
// its stop one not reported, is taken for dead: the terminate lifecycle
// hook's heartbeat timeout (template.json), after which its instance is
// gone whatever its agent does.
const settleTime = time.Hour

// The record of a job on AWS says which instance runs it: the agent
// claims a job by writing its record with Host set to its EC2 instance
// id. A job not claimed yet has Host "".

// runningOn returns the ids of the running jobs (no status) that the
// agent of instance claimed or, when it claimed none, those no agent
// claimed: the ones a terminating instance may be running. It is a pure
// function.
func runningOn(recs []efsync.Record, instance string) []string {
	mine := ids(recs, func(r efsync.Record) bool { return r.Status == "" && r.Host == instance })
	if len(mine) > 0 {
		return mine
	}
	return ids(recs, func(r efsync.Record) bool { return r.Status == "" && r.Host == "" })
}

// goneWith returns the ids of the jobs that end with instance: those its
// agent claimed and that are not reported yet, or, when none, the running
// ones no agent claimed. It is a pure function.
func goneWith(recs []efsync.Record, instance string) []string {
	mine := ids(recs, func(r efsync.Record) bool { return r.Host == instance && !reported(r) })
	if len(mine) > 0 {
		return mine
	}
	return ids(recs, func(r efsync.Record) bool { return r.Status == "" && r.Host == "" })
}

// triage sorts the jobs that are not reported at now: running, those
// that may still run (or still get their terminate event), and stale,
// those whose worker must be dead: with no status settleTime after their
// window, or not reported settleTime after their stop. It is a pure
// function.
func triage(recs []efsync.Record, now time.Time, window time.Duration) (running, stale []string) {
	for _, r := range recs {
		var dead bool
		switch {
		case reported(r):
			continue
		case r.Status == "":
			dead = now.After(r.Start.Add(window + settleTime))
		default:
			dead = now.After(r.Stop.Add(settleTime))
		}
		if dead {
			stale = append(stale, r.ID)
		} else if r.Status == "" {
			running = append(running, r.ID)
		}
	}
	return running, stale
}

// restorable returns why backup rec can't be restored from, or "".
func restorable(rec efsync.Record) string {
	switch {
	case rec.Label == restoreLabel:
		return "a restore, not a backup"
	case rec.Snapshot == "":
		return "it made no snapshot (status " + string(rec.Status) + ")"
	case !rec.Pruned.IsZero():
		return "its snapshot was pruned"
	case rec.Status != kpi.StatusSuccess && rec.Status != kpi.StatusPartial:
		return "status " + string(rec.Status)
	}
	return ""
}

// reported reports whether the orchestrator is done with rec.
func reported(r efsync.Record) bool {
	return slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseReported })
}

// ids returns the ids of the records that keep holds for, in order.
func ids(recs []efsync.Record, keep func(efsync.Record) bool) []string {
	var out []string
	for _, r := range recs {
		if keep(r) {
			out = append(out, r.ID)
		}
	}
	return out
}

// slotHolder returns the id of the backup of label scheduled at at, or
// "": the one a repeated start event finds. A backup that could not
// start holds no slot: the retry of its start starts it anew. It is a
// pure function.
func slotHolder(recs []efsync.Record, label string, at time.Time) string {
	for _, r := range recs {
		startFailed := slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseStartFailed })
		if r.Label == label && r.Start.Equal(at) && !startFailed {
			return r.ID
		}
	}
	return ""
}
