package efsync_test

import (
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/queuetest"
)

func TestMemQueueSuite(t *testing.T) {
	queuetest.Run(t, func(_ *testing.T, visibility time.Duration) efsync.Queue {
		return efsync.NewMemQueue(visibility)
	})
}
