package efsync

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A backup repository is a directory: each snapshot at <label>/<id>, the
// one being built at <label>/.inprogress-<id>, one being pruned at
// <label>/.deleting-<id>, and the repository's own files (catalog, lock,
// engine state, logs) under .efsync, outside every tree a backup writes.
const (
	repoMeta       = ".efsync"
	inProgressPref = ".inprogress-"
	deletingPref   = ".deleting-"
)

// DefaultLabel is the label of a backup that names none.
const DefaultLabel = "daily"

// checkLabel accepts a label that is one plain directory name.
func checkLabel(label string) error {
	if label == "" || strings.HasPrefix(label, ".") || len(label) > 64 ||
		strings.IndexFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
		return usage("label %q: want letters, digits, - and _, not starting with a dot", label)
	}
	return nil
}

// snapIDTime is the layout of a snapshot id's time: UTC, to the
// millisecond, so that ids sort by time.
const snapIDTime = "20060102T150405.000Z"

// newSnapshotID returns an id for a snapshot taken at now that sorts
// after last, the newest id of its label ("" if none): a clock set back
// must not make a new snapshot look older than the one it follows.
func newSnapshotID(now time.Time, last string) string {
	if t, ok := snapTime(last); ok && !now.After(t) {
		now = t.Add(time.Millisecond)
	}
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format(snapIDTime) + "-" + hex.EncodeToString(b[:])
}

// snapTime returns the time a snapshot id holds.
func snapTime(id string) (time.Time, bool) {
	stamp, _, ok := strings.Cut(id, "-")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(snapIDTime, stamp)
	return t, err == nil
}

// labelDir lists one label's directory: its complete snapshots, oldest
// first, the trees being built and those being deleted, by id.
type labelDir struct {
	complete, building, deleting []string
}

// readLabel reads repo/label; a label with no directory yet is empty.
func readLabel(repo, label string) (labelDir, error) {
	var l labelDir
	ents, err := os.ReadDir(filepath.Join(repo, label))
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("repository %s: %w", repo, err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, inProgressPref):
			l.building = append(l.building, strings.TrimPrefix(name, inProgressPref))
		case strings.HasPrefix(name, deletingPref):
			l.deleting = append(l.deleting, strings.TrimPrefix(name, deletingPref))
		default:
			if _, ok := snapTime(name); ok {
				l.complete = append(l.complete, name)
			}
		}
	}
	// Ids start with their UTC time, so sorting them sorts by time.
	slices.Sort(l.complete)
	slices.Sort(l.building)
	slices.Sort(l.deleting)
	return l, nil
}

// labels returns the labels in repo: its directories but .efsync.
func labels(repo string) ([]string, error) {
	ents, err := os.ReadDir(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repo, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && checkLabel(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// findSnapshot returns the label and directory of snapshot id in repo.
func findSnapshot(repo, id string) (label, dir string, err error) {
	if _, ok := snapTime(id); !ok || !validRunID(id) {
		return "", "", usage("snapshot %q: not a snapshot id", id)
	}
	ls, err := labels(repo)
	if err != nil {
		return "", "", &UsageError{err}
	}
	for _, l := range ls {
		d := filepath.Join(repo, l, id)
		if st, err := os.Lstat(d); err == nil && st.IsDir() {
			return l, d, nil
		}
	}
	return "", "", usage("snapshot %s: not in repository %s", id, repo)
}

// syncDir flushes the directory dir, so that a rename in it survives a
// crash of the machine.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
