package efsync

import (
	"context"
	"errors"

	"github.com/efsync/efsync/kpi"
)

// statusOf decides a run's status from how it ended: err is what stopped it
// (nil if the pass completed) and failed the entries that failed on the
// way. Vanished entries are not failures.
func statusOf(err error, failed int) kpi.Status {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kpi.StatusIncomplete
	case err != nil:
		return kpi.StatusFailed
	case failed > 0:
		return kpi.StatusPartial
	}
	return kpi.StatusSuccess
}
