package efsync

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// stateRoot returns where runs are kept: dir if set, else
// $XDG_STATE_HOME/efsync, else ~/.local/state/efsync.
func stateRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "efsync"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: set Options.StateDir or $XDG_STATE_HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "efsync"), nil
}

// pairKey names the state of one source and destination pair: readable,
// and unique by a hash of both absolute paths.
func pairKey(src, dst string) string {
	h := xxh3.HashString128(src + "\x00" + dst).Bytes()
	base := strings.Map(func(r rune) rune {
		if r == '/' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, filepath.Base(dst))
	return base + "-" + hex.EncodeToString(h[:8])
}

// newRunID returns a run id that sorts by its start: UTC time and a
// random suffix.
func newRunID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// validRunID reports whether id can name a run directory.
func validRunID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\x00")
}

// pairState is the state directory of one source and destination pair,
// locked for the duration of a run: two runs on one pair would fight.
type pairState struct {
	dir  string
	lock *os.File
}

// ErrBusy is returned when another run holds the pair's state.
var ErrBusy = errors.New("another run of this source and destination is in progress")

// openPair makes and locks the state directory of src and dst under root.
func openPair(root, src, dst string) (*pairState, error) {
	dir := filepath.Join(root, pairKey(src, dst))
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (state %s)", ErrBusy, dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	pair := fmt.Sprintf("source %s\ndestination %s\n", src, dst)
	if err := writeAtomic(filepath.Join(dir, "pair"), []byte(pair)); err != nil {
		f.Close()
		return nil, err
	}
	return &pairState{dir: dir, lock: f}, nil
}

func (p *pairState) close() error { return p.lock.Close() } // releases the flock

// writeAtomic writes data to a temporary file beside path and renames it
// over path, so that a reader sees the old contents or the new.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// pairDir returns the state directory of src and dst under root, which
// may not exist.
func pairDir(root, src, dst string) (string, error) {
	rs, rd, err := absPair(src, dst)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, pairKey(rs, rd)), nil
}
