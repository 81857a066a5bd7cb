package aws

import (
	"strconv"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/queuetest"
)

// TestSQSQueueSuite runs the Queue behaviour suite on the fake SQS.
func TestSQSQueueSuite(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, visibility time.Duration) efsync.Queue {
		secs := int((visibility + time.Second - 1) / time.Second) // SQS counts whole seconds
		q, _, _ := newSQSQueue(t, strconv.Itoa(secs))
		return q
	})
}
