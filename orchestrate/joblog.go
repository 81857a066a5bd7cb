package orchestrate

import (
	"context"
	"io"
	"log/slog"

	"github.com/efsync/efsync"
)

// jobLog writes an orchestrator's lines about one job to the job's log in
// the LogStore, as slog JSON beside the agent's. A log that can't be
// opened is reported to the orchestrator's own log, and skipped: a job
// must not fail for want of its log.
type jobLog struct {
	*slog.Logger
	w io.WriteCloser
}

// jobLog opens the log of id.
func (o *Orchestrator) jobLog(ctx context.Context, id string) jobLog {
	w, err := o.b.Logs.Open(ctx, id)
	if err != nil {
		o.log.Warn("job log", "id", id, "err", err)
		return jobLog{Logger: slog.New(slog.DiscardHandler)}
	}
	h := slog.NewJSONHandler(w, nil).WithAttrs([]slog.Attr{slog.String("by", "orchestrator"), slog.String("id", id)})
	return jobLog{Logger: slog.New(h), w: w}
}

// close closes the log. A failed close may lose lines of the log, never
// the job.
func (l jobLog) close() {
	if l.w != nil {
		l.w.Close()
	}
}

// discardLogs is the LogStore of Backends without one.
type discardLogs struct{}

func (discardLogs) Open(context.Context, string) (io.WriteCloser, error) {
	return nopCloser{io.Discard}, nil
}
func (discardLogs) Where(string) string { return "" }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// nopNotifier and nopMetrics stand in for absent backends.
type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, Notice) error { return nil }

type nopMetrics struct{}

func (nopMetrics) Publish(context.Context, efsync.Record) error { return nil }
