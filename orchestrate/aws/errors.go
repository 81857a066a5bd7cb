package aws

import (
	"errors"

	"github.com/aws/smithy-go"
)

// ErrStale is returned, wrapped, by Catalog.Put for a record that would
// take a job backwards: a running record over an ended one, or an ended
// one over a reported one (orchestrate.PhaseReported). The stored record
// is left as it was.
var ErrStale = errors.New("the stored record is further on")

// ErrClaimed is returned, wrapped, by Catalog.Put for a new running
// record whose schedule slot (its label and start time) another record
// holds: a second orchestrator invocation for one scheduled start, as
// at-least-once delivery makes. Nothing is stored; the caller must not
// start a backup, and may treat the event as handled.
var ErrClaimed = errors.New("another backup holds this schedule slot")

// ErrNoPendingAction is returned, wrapped, by Fleet.CompletePending for
// an instance with no terminate lifecycle action pending: not
// terminating yet, or its action completed or timed out already.
var ErrNoPendingAction = errors.New("no lifecycle action pending")

// apiCode returns the error code of an AWS API error in err's chain, or
// "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
