package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/local"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
)

// webhook is an HTTP server that keeps the notices POSTed to it.
type webhook struct {
	*httptest.Server
	mu      sync.Mutex
	notices []orchestrate.Notice
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n orchestrate.Notice
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &n) != nil {
			t.Errorf("webhook got %s %s %q", r.Method, r.Header.Get("Content-Type"), body)
			http.Error(rw, "bad notice", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.notices = append(w.notices, n)
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) got() []orchestrate.Notice {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.notices)
}

// writeTree fills dir with files files of 1 KiB.
func writeTree(t *testing.T, dir string, files int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), []byte(strings.Repeat("x", 1024)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// slowSource returns a source and a repository behind latencyfs, and a
// hold func: while on, every write into a snapshot's big file takes
// 50 ms, so a backup takes many seconds, until stopped.
func slowSource(t *testing.T) (src, repo string, hold func(bool)) {
	t.Helper()
	backing := t.TempDir()
	writeTree(t, filepath.Join(backing, "src"), 10)
	if err := os.Mkdir(filepath.Join(backing, "src", "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backing, "src", "zbig", "big"), make([]byte, 32<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	hold = func(on bool) {
		var f []latencyfs.Fault
		if on {
			f = []latencyfs.Fault{{Op: "write", Path: "repo/*/.inprogress-*/zbig/.efsync-*", Delay: 50 * time.Millisecond}}
		}
		if err := m.SetFaults(f); err != nil {
			t.Fatal(err)
		}
	}
	return m.Dir() + "/src", m.Dir() + "/repo", hold
}

// records returns the repository's records.
func records(t *testing.T, repo string) []efsync.Record {
	t.Helper()
	recs, err := efsync.NewFileCatalog(repo).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// reported returns the records of repo that are final, metrics and notice
// out.
func reported(t *testing.T, repo string) []efsync.Record {
	t.Helper()
	var out []efsync.Record
	for _, r := range records(t, repo) {
		if slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseReported }) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond every 10 ms until it holds, failing t after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
	}
}

// daemon runs a daemon of c with a fake clock at 01:59 until the test
// ends, and returns the clock.
func daemon(t *testing.T, c local.Config) *orchestratetest.FakeClock {
	t.Helper()
	clock := orchestratetest.NewFakeClock(time.Date(2030, 3, 1, 1, 59, 0, 0, time.UTC))
	c.Clock = clock
	if c.Schedule == nil {
		s, err := local.ParseSchedule("0 2 * * *")
		if err != nil {
			t.Fatal(err)
		}
		c.Schedule = s
	}
	c.Fleet.Engine.Grace = 200 * time.Millisecond
	d, err := local.NewDaemon(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return clock
}
