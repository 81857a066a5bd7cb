package efsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// LockInfo says who holds a repository lock. It is the JSON content of
// the lock file, readable by hand.
type LockInfo struct {
	Owner    string    `json:"owner"` // what the lock is for: "backup daily", "prune"
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Acquired time.Time `json:"acquired"` // by the holder's clock
}

// lockFile is the whole content of a lock file.
type lockFile struct {
	LockInfo
	LeaseSeconds float64 `json:"lease_seconds"`
	Token        string  `json:"token"`
	// Process names the holder's process beyond doubt on its machine:
	// boot id, pid namespace and pid (see processID).
	Process string `json:"process,omitempty"`
}

// createLock creates the lock file at path holding lf, and returns it
// open. It fails with an error matching os.ErrExist when the file exists.
//
// NB: the file is written under a temporary name, then linked to path.
// link(2) fails if path exists, as O_CREATE|O_EXCL does, and unlike it,
// never shows a reader an empty lock file. It is also the NFS-safe way:
// a link whose reply was lost is retried and fails with EEXIST, so the
// link count tells whether it was ours.
func createLock(path string, lf lockFile) (*os.File, error) {
	data, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp := path + ".new." + randHex(4)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Link(tmp, path)
		if errors.Is(err, os.ErrExist) && nlink(f) == 2 {
			err = nil
		}
	}
	if rmErr := os.Remove(tmp); err == nil && rmErr != nil {
		os.Remove(path) // ours: a lock left with two names would confuse
		err = rmErr
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// nlink returns the link count of f, or 0.
func nlink(f *os.File) uint64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return uint64(st.Sys().(*syscall.Stat_t).Nlink)
}

// readLock reads the lock file at path and its mtime, the last heartbeat.
// Unreadable content gives a zero lockFile, not an error: its age still
// tells whether it is stale.
//
// NB: open and fstat, not stat: an NFS client may serve a stat from its
// attribute cache, seconds old, but it revalidates on open.
func readLock(path string) (lockFile, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return lockFile{}, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return lockFile{}, time.Time{}, err
	}
	var lf lockFile
	if data, err := io.ReadAll(io.LimitReader(f, 1<<16)); err == nil {
		if json.Unmarshal(data, &lf) != nil {
			lf = lockFile{}
		}
	}
	return lf, st.ModTime(), nil
}

// fsNow returns the file system's clock: the mtime of a probe file created
// and touched in dir. On NFS the server sets both times, so hosts whose
// clocks differ agree on the age of a lock.
func fsNow(dir string) (time.Time, error) {
	name := filepath.Join(dir, "lock.probe."+randHex(4))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return time.Time{}, err
	}
	f.Close()
	defer os.Remove(name)
	if err := touchNow(name); err != nil {
		return time.Time{}, err
	}
	st, err := os.Stat(name)
	if err != nil {
		return time.Time{}, err
	}
	return st.ModTime(), nil
}

// touchNow sets the times of path to now by the file system's clock:
// utimensat with no times, which the NFS client sends as "set to server
// time". os.Chtimes would send this host's clock.
func touchNow(path string) error {
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, nil, 0); err != nil {
		return &os.PathError{Op: "utimensat", Path: path, Err: err}
	}
	return nil
}

// takeLock removes the lock file at path if it holds token, and reports
// whether it did. It is safe against another process replacing the file
// meanwhile: the file is renamed to a unique name, checked there, and
// linked back if it was not the one meant. Two breakers of one stale lock
// thus remove it once; the other finds a lock not its own.
func takeLock(path, token string) (bool, error) {
	cur, _, err := readLock(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil || cur.Token != token {
		return false, err
	}
	aside := path + ".gone." + randHex(4)
	if err := os.Rename(path, aside); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	got, _, err := readLock(aside)
	if err == nil && got.Token == token {
		return true, os.Remove(aside)
	}
	// Replaced between our read and our rename. Put it back; if a third
	// process already took the name, the holder of what we moved sees its
	// lock lost at its next heartbeat.
	os.Link(aside, path)
	return false, os.Remove(aside)
}

// errLockGone is the heartbeat's word for a lock no longer ours.
var errLockGone = errors.New("lock file gone or replaced")

// heartbeat touches the lock every lease/3 until ctx is cancelled. It
// closes l.lost and returns when the lock is no longer ours, or when no
// beat succeeded for a lease.
func (l *repoLock) heartbeat(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.lease / 3)
	defer t.Stop()
	ok := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.beat()
		if err == nil {
			ok = time.Now()
			continue
		}
		if errors.Is(err, errLockGone) || time.Since(ok) > l.lease {
			l.log.Warn("repository lock lost", "repo", l.repo, "err", err)
			close(l.lost)
			return
		}
		l.log.Warn("repository lock heartbeat failed", "repo", l.repo, "err", err)
	}
}

// beat checks the lock file is still ours and touches it. It touches our
// inode through its descriptor, not by path, so it never refreshes a
// successor's lock.
func (l *repoLock) beat() error {
	cur, _, err := readLock(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return errLockGone
	}
	if err != nil {
		return err
	}
	if cur.Token != l.token {
		return errLockGone
	}
	err = touchNow("/proc/self/fd/" + strconv.Itoa(int(l.f.Fd())))
	if errors.Is(err, unix.ESTALE) || errors.Is(err, os.ErrNotExist) {
		return errLockGone
	}
	return err
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
