package orchestrate

import (
	"time"

	"github.com/efsync/efsync"
)

// Event is what an Orchestrator reacts to: ScheduleStart, WindowEnd,
// StopRequested, AgentReport or AgentGone. Each but ScheduleStart names
// its job by id alone, so that a timer's or a hook's payload carries no
// other state.
type Event interface {
	// JobID returns the id of the job the event is about, or "" for a
	// ScheduleStart, which makes one.
	JobID() string
}

// ScheduleStart starts a backup that the schedule set for At.
type ScheduleStart struct {
	At time.Time
}

// WindowEnd says the window of backup ID ends: the Timer's event, at the
// window's end minus the plan's margin.
type WindowEnd struct {
	ID string
}

// StopRequested asks backup ID to stop gracefully: from a lifecycle hook,
// a signal, or an operator (By says which).
type StopRequested struct {
	ID string
	By string
}

// AgentReport is the end of backup ID, as its agent saw it: its record
// (nil if the backup made none, as on bad input or a held lock) and the
// error that ended it, if any.
type AgentReport struct {
	ID     string
	Record *efsync.Record
	Err    error
}

// AgentGone says the worker of backup ID is gone (its process or machine
// ended), with or without a report before.
type AgentGone struct {
	ID     string
	Reason string
}

// JobID returns "": the start makes the id.
func (ScheduleStart) JobID() string { return "" }

// JobID returns e.ID.
func (e WindowEnd) JobID() string { return e.ID }

// JobID returns e.ID.
func (e StopRequested) JobID() string { return e.ID }

// JobID returns e.ID.
func (e AgentReport) JobID() string { return e.ID }

// JobID returns e.ID.
func (e AgentGone) JobID() string { return e.ID }
