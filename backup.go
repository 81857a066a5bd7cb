package efsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/efsync/efsync/kpi"
)

// BackupOptions are the options of Backup. The zero value backs up under
// DefaultLabel and keeps every snapshot.
type BackupOptions struct {
	// Options are the engine's: Workers, Deadline, RequireMount,
	// Excludes, ... Delete, LinkDest, StateDir and DryRun are set by
	// Backup.
	Options
	// Label names the series ("daily", "hourly"); retention counts
	// each label apart.
	Label string
	// Keep is the retention applied after a backup that made a snapshot.
	Keep Retention
	// Catalog receives one record per backup; nil means the repository's
	// own (NewFileCatalog).
	Catalog Catalog
	// MaxShrink is the fall in the number of entries, from the newest
	// snapshot to the new one, beyond which the new one is kept but
	// marked Suspect, and prune deletes nothing unless Force: an
	// unmounted or emptied source must not expire good snapshots. The
	// default is 0.5; a negative value turns the check off.
	MaxShrink float64
	// Force prunes even after a Suspect snapshot.
	Force bool
	// LockWait is how long to wait for a repository another backup or
	// prune holds; 0 fails at once.
	LockWait time.Duration
	// NoManifest makes no manifest of the snapshot: it can then be
	// verified against its source only (VerifyOptions.Source).
	NoManifest bool
	// ID, if set, is the backup's id, made by NewBackupID when the backup
	// was scheduled: an orchestrator records the job under it before the
	// backup starts. It must sort after the label's newest snapshot.
	ID string
}

// NewBackupID returns a new backup id for a backup that starts at now:
// its UTC time to the millisecond and a random suffix. Ids sort by time,
// and each is the name of the snapshot its backup makes.
func NewBackupID(now time.Time) string { return newSnapshotID(now, "") }

// Backup makes a snapshot of src in the repository repo: a new tree at
// repo/<label>/<id>, where every file unchanged since the newest complete
// snapshot is a hard link to it, then prunes by opts.Keep. The tree is
// built at repo/<label>/.inprogress-<id> and renamed once its pass has
// completed, so no run that stops short (Incomplete: a deadline, a
// signal, a crash) makes a snapshot or uses up a retention slot: the next
// backup of that label goes on with the tree it left. A pass that
// completed with some entries failed makes a snapshot with status
// Partial, its failed paths listed in its record.
//
// It returns the backup's catalog record in every case but bad input and
// a guard's refusal, which leave the repository untouched, and an error
// as Sync does.
func Backup(ctx context.Context, src, repo string, opts BackupOptions) (*Record, error) {
	b, err := newBackup(src, repo, &opts)
	if err != nil {
		return nil, err
	}
	if err := guard(b.src, &opts.Options); err != nil { // before anything touches repo
		return nil, err
	}
	if opts.ID != "" { // checked again under the lock; here, to touch nothing
		if l, err := readLabel(b.repo, opts.Label); err == nil && len(l.complete) > 0 && opts.ID <= l.complete[len(l.complete)-1] {
			return nil, usage("backup id %s: not after the newest snapshot of %s, %s", opts.ID, opts.Label, l.complete[len(l.complete)-1])
		}
	}
	if err := os.MkdirAll(filepath.Join(b.repo, repoMeta), 0o700); err != nil {
		return nil, fmt.Errorf("repository %s: %w", repo, err)
	}
	lock, err := lockRepo(ctx, b.repo, lockOptions{Wait: opts.LockWait, Owner: "backup " + opts.Label, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // another process broke our lock: stop, as on a signal
		select {
		case <-lock.Lost():
			opts.Logger.Error("repository lock lost: stopping", "repo", b.repo)
			cancel()
		case <-ctx.Done():
		}
	}()
	return b.run(ctx)
}

// backup is one Backup: its paths and options.
type backup struct {
	src, repo string
	o         *BackupOptions
	cat       Catalog
}

// newBackup checks Backup's input, as bad input, before anything is
// touched.
func newBackup(src, repo string, o *BackupOptions) (*backup, error) {
	if o.Label == "" {
		o.Label = DefaultLabel
	}
	if err := checkLabel(o.Label); err != nil {
		return nil, err
	}
	if o.MaxShrink == 0 {
		o.MaxShrink = 0.5
	}
	if o.MaxShrink >= 1 {
		return nil, usage("max shrink %g: want a fraction below 1", o.MaxShrink)
	}
	if err := o.Keep.validate(); err != nil {
		return nil, err
	}
	if _, ok := snapTime(o.ID); o.ID != "" && (!ok || !validRunID(o.ID)) {
		return nil, usage("backup id %q: not an id NewBackupID makes", o.ID)
	}
	o.applyDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.DryRun || o.Resume != "" || o.StateDir != "" || len(o.LinkDest) > 0 {
		return nil, usage("backup: DryRun, Resume, StateDir and LinkDest are the backup's own")
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return nil, &UsageError{err}
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return nil, usage("repository %s: not a directory", repo)
	}
	// The trees a backup writes are in repo, so repo must not be in src.
	srcAbs, _, err := checkPaths(src, abs, true)
	if err != nil {
		return nil, err
	}
	cat := o.Catalog
	if cat == nil {
		cat = NewFileCatalog(abs)
	}
	return &backup{src: srcAbs, repo: abs, o: o, cat: cat}, nil
}

// run builds the snapshot, records it, and prunes; the lock is held.
func (b *backup) run(ctx context.Context) (*Record, error) {
	o, log := b.o, b.o.Logger
	l, err := readLabel(b.repo, o.Label)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	last := ""
	if n := len(l.complete); n > 0 {
		last = l.complete[n-1]
	}
	if n := len(l.building); n > 0 && l.building[n-1] > last {
		last = l.building[n-1]
	}
	id := o.ID
	if id == "" {
		id = newSnapshotID(start, last)
	} else if id <= last {
		return nil, usage("backup id %s: not after the newest snapshot of %s, %s", id, o.Label, last)
	}
	host, _ := os.Hostname()
	rec := &Record{ID: id, Label: o.Label, Source: b.src, Repo: b.repo, Host: host, Start: start.UTC()}
	if n := len(l.complete); n > 0 {
		rec.Parent = l.complete[n-1]
	}
	if err := b.closeDead(ctx); err != nil {
		return nil, err
	}
	tree, err := b.tree(ctx, l, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := b.cat.Put(ctx, *rec); err != nil { // a run that dies still has a record
		return nil, err
	}
	so := o.Options
	so.Delete = true
	so.StateDir = filepath.Join(b.repo, repoMeta, "state")
	if rec.Parent != "" {
		so.LinkDest = []string{filepath.Join(b.repo, o.Label, rec.Parent)}
		so.refGroups = b.groupsOf(rec.Parent)
		so.refGroupsFile = b.groupsPath(rec.Parent)
	}
	groupsDir := filepath.Join(b.repo, repoMeta, "groups")
	if err := os.MkdirAll(groupsDir, 0o700); err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	so.groupsFile = filepath.Join(groupsDir, filepath.Base(tree))
	var ml *manifestLog
	if !o.NoManifest {
		ml = newManifestLog(so.NoXattrs)
		so.onDone, so.onQueued, so.onSum = ml.onDone, ml.queued, ml.addSum
	}
	rep, serr := Sync(ctx, b.src, tree, WithOptions(so))
	// A stop ends the copy, not the record of it nor the manifest: those
	// run to their end, whatever ctx says; a prune stops with ctx.
	stopCtx, ctx := ctx, context.WithoutCancel(ctx)
	var manifestPhase *kpi.Phase
	if rep != nil {
		rec.Report = *rep
	}
	rec.Status, rec.Reason = outcome(rep, serr)
	rec.Failed = failedPaths(rep)
	rec.Files, rec.Bytes = rec.Report.Scanned.Total(), rec.Report.Bytes.Scanned
	if rec.Status == kpi.StatusSuccess || rec.Status == kpi.StatusPartial {
		// The engine's state of this tree is of no use once the tree
		// is a snapshot, which no backup writes to again.
		state, perr := pairDir(so.StateDir, b.src, tree)
		final := filepath.Join(b.repo, o.Label, rec.ID)
		if err := os.Rename(tree, final); err != nil {
			rec.Status, rec.Reason = kpi.StatusFailed, fmt.Sprintf("rename the snapshot into place: %v", err)
		} else {
			rec.Snapshot = final
			if err := syncDir(filepath.Dir(final)); err != nil {
				log.Warn("flush the label directory", "err", err)
			}
			if perr == nil {
				os.RemoveAll(state)
			}
			if err := os.Rename(so.groupsFile, filepath.Join(groupsDir, rec.ID)); err != nil {
				log.Warn("hard-link groups not recorded: the next backup may link a split group back", "err", err)
			}
			rec.Suspect = b.suspect(ctx, rec)
			if ml != nil {
				manifestPhase = b.manifest(ctx, ml, final, rec, so.Workers)
			}
		}
	}
	if rec.Snapshot == "" && ml != nil {
		ml.abort()
	}
	rec.Phases = append([]kpi.Phase(nil), rec.Report.Phases...)
	if manifestPhase != nil {
		rec.Phases = append(rec.Phases, *manifestPhase)
	}
	rec.Stop = time.Now().UTC()
	if err := b.cat.Put(ctx, *rec); err != nil { // before the prune: the snapshot is whole
		return rec, errors.Join(serr, err)
	}
	if rec.Snapshot != "" && !o.Keep.keepsAll() {
		ph := kpi.Phase{Name: "prune", Start: time.Now().UTC()}
		if perr := b.prune(stopCtx, rec); perr != nil {
			log.Warn("prune", "label", o.Label, "err", perr)
		}
		ph.Stop = time.Now().UTC()
		ph.Seconds = ph.Stop.Sub(ph.Start).Seconds()
		rec.Phases = append(rec.Phases, ph)
		rec.Stop = ph.Stop
		if err := b.cat.Put(ctx, *rec); err != nil {
			return rec, errors.Join(serr, err)
		}
	}
	return rec, serr
}
