package orchestrate

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// PhaseReported is the phase an Orchestrator adds to a record once its
// metrics and notice are out: the mark, kept in the Catalog like all job
// state, that makes a repeated report or a late AgentGone do nothing.
const PhaseReported = "reported"

// PhaseStartFailed is the phase an Orchestrator adds to the record of a
// job it could not start (its timer or its worker refused): no agent ran
// it, so a retry of the same scheduled start may start the backup anew,
// under a new id, rather than find the slot taken (see SlotReleaser).
const PhaseStartFailed = "start-failed"

// state is where a job is, as its record in the Catalog says.
type state int

const (
	unknown  state = iota // no record: never started here, or not ours
	running               // a record without status: the agent works
	ended                 // a status, but no metrics or notice yet
	reported              // all done
)

var stateNames = [...]string{"unknown", "running", "ended", "reported"}

func (s state) String() string { return stateNames[s] }

// stateOf returns the state of a job from its record; found is false when
// the Catalog has none.
func stateOf(rec efsync.Record, found bool) state {
	switch {
	case !found:
		return unknown
	case rec.Status == "":
		return running
	case slices.ContainsFunc(rec.Phases, func(p kpi.Phase) bool { return p.Name == PhaseReported }):
		return reported
	}
	return ended
}

// action is what an Orchestrator does for an event.
type action int

const (
	ignore  action = iota // nothing: a late, repeated or stray event
	scaleIn               // Fleet.Stop: the window is over
	command               // Commander.Stop: a stop was asked for
	settle                // record the agent's report, then finish
	bury                  // record the run as gone, then finish
	finish                // metrics, notice, release: the record is final
)

var actionNames = [...]string{"ignore", "scale in", "command a stop", "settle", "bury", "finish"}

func (a action) String() string { return actionNames[a] }

// decide returns what to do for ev about a job in state s. Stops act on a
// running job only, so a stop twice, late, or for an unknown id does
// nothing; a report or a gone worker finishes a job once.
func decide(s state, ev Event) action {
	switch ev := ev.(type) {
	case WindowEnd:
		if s == running {
			return scaleIn
		}
	case StopRequested:
		if s == running {
			return command
		}
	case AgentReport:
		if s == running || s == ended || (s == unknown && ev.Record != nil) {
			return settle
		}
	case AgentGone:
		switch s {
		case running:
			return bury
		case ended:
			return finish
		}
	}
	return ignore
}

// settled returns the final record of a job from its record in the
// Catalog (cur, if found) and its agent's report: the Catalog's if the
// agent wrote its status there, else the report's record, else cur with
// the status the report's error means.
func settled(cur efsync.Record, found bool, r AgentReport, now time.Time) efsync.Record {
	switch {
	case found && cur.Status != "":
		return cur
	case r.Record != nil && r.Record.Status != "":
		return *r.Record
	case r.Record != nil && !found:
		cur = *r.Record
	}
	cur.ID = r.ID
	cur.Status, cur.Reason = kpi.StatusFailed, "the agent ended without a status"
	if r.Err != nil {
		cur.Reason = r.Err.Error()
		if errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded) {
			cur.Status = kpi.StatusIncomplete
		}
	}
	if cur.Stop.IsZero() {
		cur.Stop = now.UTC()
	}
	return cur
}

// buried returns the record of a running job whose worker is gone.
func buried(cur efsync.Record, reason string, now time.Time) efsync.Record {
	cur.Status = kpi.StatusIncomplete
	cur.Reason = "the agent was gone without a report"
	if reason != "" {
		cur.Reason += ": " + reason
	}
	if cur.Stop.IsZero() {
		cur.Stop = now.UTC()
	}
	return cur
}
