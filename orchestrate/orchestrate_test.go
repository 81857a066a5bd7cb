package orchestrate_test

import (
	"testing"

	"github.com/efsync/efsync/orchestrate/orchestratetest"
)

// TestMemoryBackends runs the behaviour suite on the in-memory fakes: it
// tests the core's lifecycle.
func TestMemoryBackends(t *testing.T) {
	orchestratetest.Run(t, orchestratetest.NewMemory)
}
