package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/efsync/efsync/orchestrate"
)

// LogFiles is the local orchestrate.LogStore: one file per backup,
// REPO/.efsync/logs/<id>.log, which the agent and the orchestrator append
// lines to. It is safe for concurrent use: each line is one write to a
// file opened for appending.
type LogFiles struct {
	dir string
}

var _ orchestrate.LogStore = (*LogFiles)(nil)

// NewLogFiles returns the log store of the repository repo.
func NewLogFiles(repo string) *LogFiles {
	return &LogFiles{dir: filepath.Join(repo, ".efsync", "logs")}
}

// Open opens the log of id for appending, creating it and its directory.
func (l *LogFiles) Open(ctx context.Context, id string) (io.WriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if id == "" || filepath.Base(id) != id || id[0] == '.' {
		return nil, fmt.Errorf("log of %q: not a backup id", id)
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.Where(id), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return syncCloser{f}, nil
}

// Where returns the path of the log of id.
func (l *LogFiles) Where(id string) string { return filepath.Join(l.dir, id+".log") }

// syncCloser syncs its file before closing it: a log is read after a
// crash, when it matters most.
type syncCloser struct{ *os.File }

func (s syncCloser) Close() error {
	err := s.Sync()
	if cerr := s.File.Close(); err == nil {
		err = cerr
	}
	return err
}
