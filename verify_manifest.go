package efsync

import (
	"context"
	"errors"
	"io/fs"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
)

// Verify checks snapshot id of repo against its manifest: with
// opts.Full, every entry, metadata and content read in full, and entries
// that are missing or extra; otherwise only the entries the backup that
// made the snapshot wrote, reading only those. With opts.Source, it
// compares the snapshot with that tree instead (VerifyTree). The report's
// status is Partial (exit code 2) when anything differs.
func Verify(ctx context.Context, repo, id string, opts VerifyOptions) (*VerifyReport, error) {
	_, dir, err := findSnapshot(repo, id)
	if err != nil {
		return nil, err
	}
	if opts.Source != "" {
		return VerifyTree(ctx, opts.Source, dir, opts)
	}
	o := opts.Options
	o.applyDefaults()
	m, err := manifest.Open(manifestPath(repo, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usage("snapshot %s has no manifest: verify it against its source", id)
	}
	if err != nil {
		return nil, err
	}
	defer m.Close()
	root, err := openTreeRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.close()
	r := &VerifyReport{Differences: []Difference{}}
	v := &verifier{root: root, noXattrs: o.NoXattrs, d: &differences{max: opts.Max, r: r}}
	if v.d.max <= 0 {
		v.d.max = 1000
	}
	if opts.Full {
		err = v.full(ctx, m, dir, o.Workers)
	} else {
		err = v.changed(ctx, m, wrotePath(repo, id), o.Workers)
	}
	r.Checked = v.checked.Load()
	switch {
	case ctx.Err() != nil:
		r.Status = verifyStatus(statusOf(ctx.Err(), 0), r.Total)
	case err != nil:
		r.Status = verifyStatus(statusOf(err, 0), r.Total)
	default:
		r.Status = verifyStatus(statusOf(nil, 0), r.Total)
	}
	return r, err
}

// full checks every entry of the manifest m against the tree dir, and
// finds the entries of dir the manifest lacks.
func (v *verifier) full(ctx context.Context, m manifest.Stream, dir string, workers int) error {
	paths := manifest.NewSorter(manifest.Options{})
	w, err := partition.NewWalker(dir, partition.Options{Walkers: workers})
	if err != nil {
		paths.Abort()
		return err
	}
	chunks := make(chan partition.Chunk, 4)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx, chunks) })
	g.Go(func() error {
		var err error
		for ch := range chunks {
			for i := range ch.Entries {
				if e := &ch.Entries[i]; err == nil {
					err = paths.Add(manifest.Record{Path: e.Path})
				}
			}
		}
		return err
	})
	if err := g.Wait(); err != nil {
		paths.Abort()
		return err
	}
	have, err := paths.Sort()
	if err != nil {
		return err
	}
	defer have.Close()
	return v.run(ctx, workers, func(check func(*manifest.Record) error) error {
		return manifest.Join(m, have, func(want, got *manifest.Record) error {
			switch {
			case got == nil:
				v.d.add(Difference{Path: want.Path, Kinds: []string{"missing"}})
			case want == nil:
				v.d.add(Difference{Path: got.Path, Kinds: []string{"extra"}})
			default:
				return check(want)
			}
			return nil
		})
	})
}

// changed checks the entries the list at wrote names.
func (v *verifier) changed(ctx context.Context, m manifest.Stream, wrote string, workers int) error {
	list, err := manifest.Open(wrote)
	if err != nil {
		return err
	}
	defer list.Close()
	return v.run(ctx, workers, func(check func(*manifest.Record) error) error {
		return manifest.Join(m, list, func(want, w *manifest.Record) error {
			if want == nil || w == nil {
				return nil
			}
			return check(want)
		})
	})
}
