package efsync

import (
	"os"
	"testing"
)

// TestMain keeps the runs' journals of the tests out of the user's state
// directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "efsync-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
