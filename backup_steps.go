package efsync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/efsync/efsync/kpi"
)

// The steps of a backup's run (backup.go), each a small decision or
// action on the repository.

// tree returns the tree this backup builds: the newest one an earlier
// run left unfinished, which it goes on with (a Sync to the same path
// resumes that run's huge files and cleans up after it), or a new one.
// Older unfinished trees, left by runs that overlapped a lost lock, are
// removed.
func (b *backup) tree(ctx context.Context, l labelDir, id string) (string, error) {
	dir := filepath.Join(b.repo, b.o.Label)
	if n := len(l.building); n > 0 {
		for _, old := range l.building[:n-1] {
			if _, err := removeTree(ctx, filepath.Join(dir, inProgressPref+old), b.o.Workers); err != nil {
				return "", err
			}
		}
		b.o.Logger.Info("going on with an unfinished snapshot", "tree", inProgressPref+l.building[n-1])
		return filepath.Join(dir, inProgressPref+l.building[n-1]), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("repository: %w", err)
	}
	return filepath.Join(dir, inProgressPref+id), nil
}

// manifest builds the manifest of rec's snapshot, at dir, and returns
// the phase it took. A failure leaves the snapshot without one, with a
// warning: it can still be verified against its source.
func (b *backup) manifest(ctx context.Context, ml *manifestLog, dir string, rec *Record, workers int) *kpi.Phase {
	ph := kpi.Phase{Name: "manifest", Start: time.Now().UTC()}
	if err := ml.build(ctx, b.repo, dir, rec.ID, rec.Parent, workers); err != nil {
		b.o.Logger.Warn("no manifest: the snapshot can be verified against its source only", "snapshot", rec.ID, "err", err)
	}
	ph.Stop = time.Now().UTC()
	ph.Seconds = ph.Stop.Sub(ph.Start).Seconds()
	return &ph
}

// groupsOf returns the paths of the hard-link group members of snapshot
// id, as its backup recorded them, or nil.
func (b *backup) groupsOf(id string) map[string]bool {
	rels, err := readList(b.groupsPath(id))
	if err != nil {
		b.o.Logger.Warn("the newest snapshot's hard-link groups are unknown: a split group may be linked back", "snapshot", id, "err", err)
		return nil
	}
	m := make(map[string]bool, len(rels))
	for _, r := range rels {
		m[r] = true
	}
	return m
}

// groupsPath returns the file of snapshot id's hard-link group members.
func (b *backup) groupsPath(id string) string {
	return filepath.Join(b.repo, repoMeta, "groups", id)
}

// closeDead marks Incomplete the records of runs that never reported:
// killed, or cut off from the repository. We hold the lock, so none of
// them is running.
func (b *backup) closeDead(ctx context.Context) error {
	recs, err := b.cat.List(ctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Status != "" || r.Label != b.o.Label {
			continue
		}
		r.Status, r.Reason = kpi.StatusIncomplete, "the run ended without a report: killed, or its machine lost"
		if err := b.cat.Put(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// suspect reports whether rec's snapshot has fewer entries than the
// newest complete one before it by more than MaxShrink.
func (b *backup) suspect(ctx context.Context, rec *Record) bool {
	if b.o.MaxShrink < 0 || rec.Parent == "" {
		return false
	}
	prev, err := b.cat.Get(ctx, rec.Parent)
	if err != nil || prev.Files == 0 {
		return false
	}
	if shrank(prev.Files, rec.Files, b.o.MaxShrink) {
		b.o.Logger.Warn("the source shrank: prune will delete nothing until a snapshot is normal again, or with --force",
			"before", prev.Files, "now", rec.Files, "snapshot", rec.ID)
		return true
	}
	return false
}

// shrank reports whether a count fell from before to now by more than the
// fraction limit.
func shrank(before, now int64, limit float64) bool {
	return float64(now) < float64(before)*(1-limit)
}

// outcome is a backup's status and its reason, from the engine's report
// and error.
func outcome(rep *kpi.Report, err error) (kpi.Status, string) {
	status := kpi.StatusFailed
	if rep != nil && rep.Status != "" {
		status = rep.Status
	}
	switch {
	case err != nil:
		return status, err.Error()
	case status == kpi.StatusPartial:
		return status, fmt.Sprintf("%d entries failed", rep.Errors.Total)
	}
	return status, ""
}

// failedPaths returns the paths of the failed entries a report lists.
func failedPaths(rep *kpi.Report) []string {
	if rep == nil {
		return nil
	}
	var out []string
	for _, e := range rep.Errors.First {
		out = append(out, e.Path)
	}
	return out
}
