package efsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrRepoLocked is returned, inside a *LockedError, when another process
// holds the repository lock.
var ErrRepoLocked = errors.New("repository is locked")

// ErrLockLost is returned by Unlock when the lock was no longer ours:
// another process broke it, judging it stale, so the run that held it was
// not alone on the repository for all its length.
var ErrLockLost = errors.New("repository lock lost")

// LockedError says who holds a repository lock. It unwraps to
// ErrRepoLocked.
type LockedError struct {
	Repo   string
	Holder LockInfo // zero when the lock file could not be read
	// Age is the time since the holder's last heartbeat, by the file
	// system's clock.
	Age time.Duration
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h.PID == 0 && h.Owner == "" {
		return fmt.Sprintf("%s: %s by an unknown holder (unreadable lock file), heartbeat %s ago",
			ErrRepoLocked, e.Repo, e.Age.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s: %s by %q (host %s, pid %d, since %s), heartbeat %s ago",
		ErrRepoLocked, e.Repo, h.Owner, h.Host, h.PID, h.Acquired.Format(time.RFC3339), e.Age.Round(time.Millisecond))
}

// Unwrap returns ErrRepoLocked.
func (e *LockedError) Unwrap() error { return ErrRepoLocked }

// lockOptions configure lockRepo.
type lockOptions struct {
	// Lease is how long a lock lives without a heartbeat before another
	// process may break it; the holder touches it every Lease/3. The
	// default is 2 minutes.
	Lease time.Duration
	// Wait is how long to wait for a lock held by another; 0 fails at once.
	Wait time.Duration
	// Owner says what the lock is for: "backup daily", "prune".
	Owner  string
	Logger *slog.Logger
}

func (o *lockOptions) applyDefaults() {
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Owner == "" {
		o.Owner = "efsync"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// repoLock is a held repository lock, kept alive by a heartbeat goroutine
// until Unlock.
type repoLock struct {
	// config
	repo, path string
	token      string // ours, in the lock file: tells our lock from a successor's
	lease      time.Duration
	log        *slog.Logger

	// state
	f      *os.File // our lock file's inode, whatever its name becomes
	lost   chan struct{}
	stop   context.CancelFunc
	done   chan struct{} // closed when the heartbeat has returned
	once   sync.Once
	unlock error
}

// lockRepo takes the lock of the repository repo: the file
// repo/.efsync/lock, created exclusively, holding a LockInfo as JSON. It
// is how two backups, or a backup and a prune, never run at once on one
// repository, even from several hosts sharing it over NFS, where flock is
// not to be trusted.
//
// A lock whose heartbeat (its mtime) is older than its lease is stale: its
// holder died or lost the file system. lockRepo breaks it, with a warning.
// Ages are read on the file system's clock, so hosts whose clocks differ
// agree on them. A lock held by a live process makes lockRepo wait up to
// o.Wait, then return a *LockedError; a cancelled ctx ends the wait with
// ctx.Err(). ctx does not bound the held lock: it lives until Unlock.
func lockRepo(ctx context.Context, repo string, o lockOptions) (*repoLock, error) {
	o.applyDefaults()
	dir := filepath.Join(repo, ".efsync")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l := &repoLock{repo: repo, path: filepath.Join(dir, "lock"), token: randHex(8),
		lease: o.Lease, log: o.Logger, lost: make(chan struct{}), done: make(chan struct{})}
	deadline := time.Now().Add(o.Wait)
	poll := min(max(o.Lease/10, 10*time.Millisecond), time.Second)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held, err := l.try(o.Owner)
		if err != nil {
			return nil, err
		}
		if held == nil {
			hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
			l.stop = stop
			go l.heartbeat(hctx)
			return l, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, held
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(poll, left)):
		}
	}
}

// try makes one attempt at the lock: it creates the lock file, or breaks a
// stale one and creates it anew. It returns a *LockedError when a live
// process holds the lock.
func (l *repoLock) try(owner string) (*LockedError, error) {
	for {
		f, err := createLock(l.path, l.newFile(owner))
		if err == nil {
			l.f = f
			return nil, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		cur, mtime, err := readLock(l.path)
		if errors.Is(err, os.ErrNotExist) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, err
		}
		now, err := fsNow(filepath.Dir(l.path))
		if err != nil {
			return nil, err
		}
		age := now.Sub(mtime)
		// The longer of the two leases: the holder promised a heartbeat
		// within its own, and ours may be longer.
		lease := max(l.lease, time.Duration(cur.LeaseSeconds*float64(time.Second)))
		dead := cur.Process != "" && cur.Process == processID(cur.PID) && !alive(cur.PID)
		if age <= lease && !dead {
			return &LockedError{Repo: l.repo, Holder: cur.LockInfo, Age: age}, nil
		}
		l.log.Warn("breaking a stale repository lock", "repo", l.repo, "owner", cur.Owner,
			"host", cur.Host, "pid", cur.PID, "heartbeat_age", age.Round(time.Millisecond), "lease", lease,
			"holder_dead", dead)
		if _, err := takeLock(l.path, cur.Token); err != nil {
			return nil, err
		}
	}
}

// newFile returns the content of a lock file of ours.
func (l *repoLock) newFile(owner string) lockFile {
	host, _ := os.Hostname()
	return lockFile{
		LockInfo:     LockInfo{Owner: owner, Host: host, PID: os.Getpid(), Acquired: time.Now().UTC()},
		LeaseSeconds: l.lease.Seconds(), Token: l.token, Process: processID(os.Getpid()),
	}
}

// processID names process pid of this machine beyond doubt, or is "": by
// the boot id and the pid namespace, so that a lock left by a process
// that died here (SIGKILL, OOM) is broken at once, not after its lease,
// while a lock from another machine or container, whose pids mean
// nothing here, never is.
func processID(pid int) string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s/%s/%d", strings.TrimSpace(string(boot)), ns, pid)
}

// Lost returns a channel closed when the heartbeat finds the lock gone or
// no longer ours, or could not refresh it for a whole lease: another
// process may then hold it, and the caller should cancel its run. Unlock
// does not close it.
func (l *repoLock) Lost() <-chan struct{} { return l.lost }

// Unlock stops the heartbeat and removes the lock file if it is still
// ours. It returns ErrLockLost, and removes nothing, when it is not. Later
// calls return the first call's result.
func (l *repoLock) Unlock() error {
	l.once.Do(func() {
		l.stop()
		<-l.done
		ours, err := takeLock(l.path, l.token)
		switch {
		case err != nil:
			l.unlock = err
		case !ours:
			l.unlock = fmt.Errorf("unlock %s: %w", l.path, ErrLockLost)
		}
		l.f.Close()
	})
	return l.unlock
}
