package local_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/efsync/efsync/orchestrate/local"
)

// TestStopSocket asks for a stop of one backup and of all, replaces a
// socket a dead daemon left, and refuses to take a live one.
func TestStopSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.sock")
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // the file stays, as after a crash
	ln, err := local.ListenStop(path)
	if err != nil {
		t.Fatalf("a stale socket: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var asked []string
	go local.ServeStop(ctx, ln, func(id string) (string, error) {
		if id == "bad" {
			return "", errors.New("no such backup")
		}
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, id)
		return "stopping " + id, nil
	})
	if _, err := local.ListenStop(path); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("a second listener: %v, want a refusal", err)
	}
	for _, id := range []string{"20300301T020000.000Z-abcdef", ""} {
		if msg, err := local.RequestStop(t.Context(), path, id); err != nil || msg != strings.TrimSpace("stopping "+id) {
			t.Errorf("stop %q: %q, %v", id, msg, err)
		}
	}
	if _, err := local.RequestStop(t.Context(), path, "bad"); err == nil || err.Error() != "no such backup" {
		t.Errorf("a refused stop: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(asked, ",") != "20300301T020000.000Z-abcdef," {
		t.Errorf("handled %q", asked)
	}
	cancel()
	if _, err := local.RequestStop(context.Background(), filepath.Join(t.TempDir(), "none.sock"), ""); err == nil {
		t.Error("no daemon: no error")
	}
}
