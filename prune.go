package efsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
)

// PruneOptions are the options of Prune.
type PruneOptions struct {
	// Label limits the prune to one label; "" prunes every label.
	Label string
	// Keep is the retention; one that keeps all deletes nothing.
	Keep Retention
	// Force prunes even when the newest snapshot is Suspect.
	Force bool
	// Workers is how many deletes are in flight at once (the default,
	// 8 × CPUs, as Sync's).
	Workers int
	// Catalog, LockWait and Logger are as in BackupOptions.
	Catalog  Catalog
	LockWait time.Duration
	Logger   *slog.Logger
}

// ErrSuspect is returned by a prune that refuses to delete anything
// because the newest snapshot is Suspect (see BackupOptions.MaxShrink).
var ErrSuspect = errors.New("the newest snapshot is suspect")

// Prune deletes the snapshots of repo that opts.Keep does not keep, and
// finishes deletes a killed prune left. It never deletes the newest
// complete snapshot of a label. It returns the ids deleted.
func Prune(ctx context.Context, repo string, opts PruneOptions) ([]string, error) {
	o := Options{Workers: opts.Workers, Logger: opts.Logger}
	o.applyDefaults()
	if err := opts.Keep.validate(); err != nil {
		return nil, err
	}
	if opts.Label != "" {
		if err := checkLabel(opts.Label); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return nil, &UsageError{err}
	}
	if st, err := os.Stat(filepath.Join(abs, repoMeta)); err != nil || !st.IsDir() {
		return nil, usage("repository %s: not a backup repository (no %s)", repo, repoMeta)
	}
	lock, err := lockRepo(ctx, abs, lockOptions{Wait: opts.LockWait, Owner: "prune", Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	cat := opts.Catalog
	if cat == nil {
		cat = NewFileCatalog(abs)
	}
	p := &pruner{repo: abs, keep: opts.Keep, force: opts.Force, workers: o.Workers, cat: cat, log: o.Logger}
	ls := []string{opts.Label}
	if opts.Label == "" {
		if ls, err = labels(abs); err != nil {
			return nil, err
		}
	}
	var gone []string
	for _, l := range ls {
		ids, err := p.label(ctx, l)
		gone = append(gone, ids...)
		if err != nil {
			return gone, err
		}
	}
	return gone, nil
}

// prune is Backup's prune of rec's label, under the lock Backup holds.
func (b *backup) prune(ctx context.Context, rec *Record) error {
	p := &pruner{repo: b.repo, keep: b.o.Keep, force: b.o.Force, workers: b.o.Workers, cat: b.cat, log: b.o.Logger}
	_, err := p.label(ctx, rec.Label)
	return err
}

// pruner deletes expired snapshots; the repository lock is held.
type pruner struct {
	repo    string
	keep    Retention
	force   bool
	workers int
	cat     Catalog
	log     *slog.Logger
}

// label prunes one label, and returns the ids it deleted.
func (p *pruner) label(ctx context.Context, label string) ([]string, error) {
	l, err := readLabel(p.repo, label)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(p.repo, label)
	for _, id := range l.deleting { // a killed prune's
		if _, err := removeTree(ctx, filepath.Join(dir, deletingPref+id), p.workers); err != nil {
			return nil, err
		}
	}
	if p.keep.keepsAll() || len(l.complete) == 0 {
		return nil, nil
	}
	snaps := make([]SnapshotInfo, 0, len(l.complete))
	for _, id := range l.complete {
		t, _ := snapTime(id)
		s := SnapshotInfo{ID: id, Label: label, Time: t, Status: kpi.StatusSuccess}
		if r, err := p.cat.Get(ctx, id); err == nil {
			s.Status = r.Status
			if id == l.complete[len(l.complete)-1] && r.Suspect && !p.force {
				return nil, fmt.Errorf("prune %s: %w: %s has %d entries, far fewer than before; prune with force once it is checked",
					label, ErrSuspect, id, r.Files)
			}
		}
		snaps = append(snaps, s)
	}
	_, drop := p.keep.Apply(snaps)
	var gone []string
	for _, s := range drop {
		if err := p.delete(ctx, dir, s.ID); err != nil {
			return gone, err
		}
		gone = append(gone, s.ID)
	}
	return gone, nil
}

// delete removes snapshot id from dir: renamed first, so that it leaves
// the list at once and a killed prune is finished by the next, then
// removed in parallel, then marked pruned in its record.
func (p *pruner) delete(ctx context.Context, dir, id string) error {
	doomed := filepath.Join(dir, deletingPref+id)
	if err := os.Rename(filepath.Join(dir, id), doomed); err != nil {
		return fmt.Errorf("prune %s: %w", id, err)
	}
	n, err := removeTree(ctx, doomed, p.workers)
	if err != nil {
		return err
	}
	p.log.Info("pruned", "snapshot", id, "entries", n)
	os.Remove(filepath.Join(p.repo, repoMeta, "groups", id))
	os.Remove(manifestPath(p.repo, id))
	os.Remove(wrotePath(p.repo, id))
	if r, err := p.cat.Get(ctx, id); err == nil {
		r.Pruned = time.Now().UTC()
		return p.cat.Put(ctx, r)
	}
	return nil
}

// removeTree is transfer.RemoveTree, for the repository's trees.
func removeTree(ctx context.Context, dir string, workers int) (int64, error) {
	return transfer.RemoveTree(ctx, dir, workers)
}
