package orchestrate

import (
	"context"
	"io"
	"time"

	"github.com/efsync/efsync"
)

// Fleet starts and stops the workers that run backups: in-process runs
// locally, an Auto Scaling group on AWS.
//
// Implementations MUST be safe for concurrent use. A worker MUST end with
// an AgentReport or, if it dies first, an AgentGone for its job, sent to
// whatever feeds the Orchestrator.
type Fleet interface {
	// Start starts a worker for job and returns once it is started, not
	// done.
	Start(ctx context.Context, job Job) error
	// Stop releases the worker of backup id: a graceful stop for a run
	// still going (the window is over), a scale-in for one that ended.
	// It MUST be safe to call twice, late, or for an id no worker runs.
	Stop(ctx context.Context, id string) error
}

// SlotReleaser is a Catalog that claims each schedule slot (a label and
// a start time) for one job, as orchestrate/aws's does against repeated
// deliveries of a start event: ReleaseSlot gives up the slot of rec, a
// job that could not start, so that the retry of its start can claim it.
// A Catalog without it claims nothing to release.
type SlotReleaser interface {
	ReleaseSlot(ctx context.Context, rec efsync.Record) error
}

// Timer arranges the one stop event of a backup's window.
//
// Implementations MUST be safe for concurrent use.
type Timer interface {
	// Set arranges one WindowEnd{ID: id} at at. The event's payload MUST
	// hold the id and nothing else: the job's state is in the Catalog.
	Set(ctx context.Context, id string, at time.Time) error
	// Cancel removes the event of id if it has not fired. It MUST be safe
	// for an unknown id, and for one already fired or cancelled.
	Cancel(ctx context.Context, id string) error
}

// Commander asks the agent running a backup to stop gracefully: to end
// its copy within its grace period, then flush its record and logs.
//
// Implementations MUST be safe for concurrent use. Stop MUST be safe to
// call twice, late, or for an id no agent runs.
type Commander interface {
	Stop(ctx context.Context, id string) error
}

// LogStore keeps the logs of backups, one log per id.
//
// Implementations MUST be safe for concurrent use, also by several
// writers of one id (the agent's and the orchestrator's).
type LogStore interface {
	// Open returns a writer that appends to the log of id. Close MUST
	// make what was written durable. A store that cannot append (S3)
	// MAY keep each Open's writes as a part of its own.
	Open(ctx context.Context, id string) (io.WriteCloser, error)
	// Where returns where the log of id is kept, a path or a URL, for
	// people reading a notice.
	Where(id string) string
}

// Notifier sends notices of ended backups: email, a chat, a pager.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Metrics publishes the KPIs of ended backups.
type Metrics interface {
	// Publish publishes rec's report and status. Publishing one record
	// twice MUST be harmless (gauges, not counters).
	Publish(ctx context.Context, rec efsync.Record) error
}

// Backends are the backends an Orchestrator works through. Fleet, Timer,
// Commander and Catalog are required; a nil LogStore, Notifier or
// Metrics does without.
type Backends struct {
	Fleet     Fleet
	Timer     Timer
	Commander Commander
	Catalog   efsync.Catalog
	Logs      LogStore
	Notifier  Notifier
	Metrics   Metrics
}
