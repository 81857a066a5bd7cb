package efsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testLease is short, so that stale locks and lost heartbeats show fast.
const testLease = 300 * time.Millisecond

// logBuffer is a log sink safe for the heartbeat goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLockOptions(owner string, wait time.Duration, log *logBuffer) lockOptions {
	o := lockOptions{Lease: testLease, Wait: wait, Owner: owner}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return o
}

func mustLock(t *testing.T, repo string, o lockOptions) *repoLock {
	t.Helper()
	l, err := lockRepo(t.Context(), repo, o)
	if err != nil {
		t.Fatalf("lockRepo: %v", err)
	}
	return l
}

func TestRepoLockExcludes(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("backup daily", 0, nil))
	_, err := lockRepo(t.Context(), repo, testLockOptions("prune", 0, nil))
	var le *LockedError
	if !errors.Is(err, ErrRepoLocked) || !errors.As(err, &le) {
		t.Fatalf("second lock: got %v, want a *LockedError", err)
	}
	if le.Holder.Owner != "backup daily" || le.Holder.PID != os.Getpid() || le.Holder.Host == "" {
		t.Errorf("holder = %+v", le.Holder)
	}
	if !strings.Contains(err.Error(), `"backup daily"`) {
		t.Errorf("error does not name the holder: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(repo, ".efsync", "lock"))
	if err != nil {
		t.Fatal(err)
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil || info.Owner != "backup daily" || info.Acquired.IsZero() {
		t.Errorf("lock file %s: %+v, %v", data, info, err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, ".efsync", "lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Unlock: %v", err)
	}
}

func TestRepoLockGoroutines(t *testing.T) {
	repo := t.TempDir()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				l, err := lockRepo(t.Context(), repo, testLockOptions("worker", 10*time.Second, nil))
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				if err := l.Unlock(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders at once", most.Load())
	}
}

func TestRepoLockWaitAfterUnlock(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("first", 0, nil))
	time.AfterFunc(100*time.Millisecond, func() { a.Unlock() })
	start := time.Now()
	b := mustLock(t, repo, testLockOptions("second", 10*time.Second, nil))
	defer b.Unlock()
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("took the lock after %v, before the Unlock", d)
	}
}

func TestRepoLockWaitTimeout(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("backup daily", 0, nil))
	defer a.Unlock()
	start := time.Now()
	// Longer than the lease: the holder's heartbeat keeps the lock fresh.
	_, err := lockRepo(t.Context(), repo, testLockOptions("prune", 2*testLease, nil))
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Owner != "backup daily" {
		t.Fatalf("got %v, want a *LockedError naming the holder", err)
	}
	if d := time.Since(start); d < 2*testLease {
		t.Errorf("gave up after %v, before Wait", d)
	}
}

func TestRepoLockWaitCanceled(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("first", 0, nil))
	defer a.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := lockRepo(ctx, repo, testLockOptions("second", time.Minute, nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestRepoLockStaleBroken(t *testing.T) {
	repo := t.TempDir()
	path := filepath.Join(repo, ".efsync", "lock")
	os.MkdirAll(filepath.Dir(path), 0o755)
	stale := `{"owner": "backup old", "host": "gone", "pid": 1, "lease_seconds": 0.3, "token": "x"}`
	if err := os.WriteFile(path, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	var log logBuffer
	l := mustLock(t, repo, testLockOptions("backup new", 0, &log))
	defer l.Unlock()
	if s := log.String(); !strings.Contains(s, "stale") || !strings.Contains(s, "backup old") {
		t.Errorf("no warning naming the stale holder: %q", s)
	}
	if lf, _, err := readLock(path); err != nil || lf.Owner != "backup new" {
		t.Errorf("lock file: %+v, %v", lf, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("left over in .efsync: %v", ents)
	}
}

func TestRepoLockHeartbeatKeepsFresh(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("long", 0, nil))
	defer a.Unlock()
	time.Sleep(3 * testLease)
	if _, err := lockRepo(t.Context(), repo, testLockOptions("other", 0, nil)); !errors.Is(err, ErrRepoLocked) {
		t.Errorf("after three leases: got %v, want ErrRepoLocked", err)
	}
	select {
	case <-a.Lost():
		t.Error("Lost fired on a lock still held")
	default:
	}
}

func TestRepoLockLostWhenRemoved(t *testing.T) {
	repo := t.TempDir()
	a := mustLock(t, repo, testLockOptions("first", 0, nil))
	if err := os.Remove(filepath.Join(repo, ".efsync", "lock")); err != nil {
		t.Fatal(err)
	}
	waitLost(t, a)
	if err := a.Unlock(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Unlock: got %v, want ErrLockLost", err)
	}
}

func TestRepoLockLostWhenReplaced(t *testing.T) {
	repo := t.TempDir()
	path := filepath.Join(repo, ".efsync", "lock")
	a := mustLock(t, repo, testLockOptions("first", 0, nil))
	// As a breaker would: move it aside, then lock anew.
	if err := os.Rename(path, path+".aside"); err != nil {
		t.Fatal(err)
	}
	b := mustLock(t, repo, testLockOptions("second", 0, nil))
	waitLost(t, a)
	if err := a.Unlock(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Unlock of the lost lock: got %v, want ErrLockLost", err)
	}
	if lf, _, err := readLock(path); err != nil || lf.Owner != "second" {
		t.Errorf("the successor's lock after the loser's Unlock: %+v, %v", lf, err)
	}
	if err := b.Unlock(); err != nil {
		t.Errorf("Unlock of the successor: %v", err)
	}
}

func waitLost(t *testing.T, l *repoLock) {
	t.Helper()
	select {
	case <-l.Lost():
	case <-time.After(10 * testLease):
		t.Fatal("Lost did not fire")
	}
}

func TestRepoLockTakeLockRace(t *testing.T) {
	repo := t.TempDir()
	path := filepath.Join(repo, "lock")
	f, err := createLock(path, lockFile{Token: "stale"})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Two breakers of one stale lock: one removes it, the other finds it gone.
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			ok, err := takeLock(path, "stale")
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d breakers removed the lock", won.Load())
	}
	// A breaker that judged an old token never removes a successor's lock.
	f, err = createLock(path, lockFile{Token: "fresh"})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if ok, err := takeLock(path, "stale"); ok || err != nil {
		t.Errorf("takeLock of a successor's lock: %v, %v", ok, err)
	}
	if lf, _, err := readLock(path); err != nil || lf.Token != "fresh" {
		t.Errorf("successor's lock: %+v, %v", lf, err)
	}
}
