package efsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
)

// RestoreOptions are the options of Restore. The zero value restores
// into a new or empty target only, and deletes nothing.
type RestoreOptions struct {
	// Options are the engine's (Workers, Logger, NoXattrs, ...); Delete,
	// LinkDest, DryRun and Resume are Restore's own.
	Options
	// Overwrite writes over an existing target: entries the snapshot
	// has replace those of the target, and nothing else there is
	// deleted.
	Overwrite bool
	// Delete, with a directory, also deletes from the target what the
	// snapshot lacks, inside the target only: the target then mirrors
	// the snapshot. It implies Overwrite.
	Delete bool
}

// Restore copies the snapshot id of repo, or the entry subpath inside it
// (a slash path; "" or "." for all of it), to target, exactly: content,
// modes, owners, times, xattrs and ACLs, hard links. A directory's
// contents become target's; a file, link or special becomes target
// itself. It never writes into the repository.
//
// It is non-destructive by default: target must not exist, or be an
// empty directory; see RestoreOptions for more. It returns the report of
// the copy, and an error as Sync does.
func Restore(ctx context.Context, repo, id, subpath, target string, opts RestoreOptions) (*kpi.Report, error) {
	o := opts.Options
	if o.DryRun || o.Resume != "" || len(o.LinkDest) > 0 || o.Delete {
		return nil, usage("restore: Delete, DryRun, Resume and LinkDest are Restore's own")
	}
	if subpath == "" {
		subpath = "."
	}
	if !filepath.IsLocal(subpath) && filepath.Clean(subpath) != "." {
		return nil, usage("restore %s/%s: the path must stay inside the snapshot", id, subpath)
	}
	_, dir, err := findSnapshot(repo, id)
	if err != nil {
		return nil, err
	}
	src := filepath.Join(dir, filepath.Clean(subpath))
	st, err := os.Lstat(src)
	if err != nil {
		return nil, usage("restore %s/%s: %w", id, subpath, err)
	}
	if err := checkTarget(target, st.IsDir(), opts.Overwrite || opts.Delete); err != nil {
		return nil, err
	}
	if st.IsDir() {
		o.Delete = opts.Delete
		return Sync(ctx, src, target, WithOptions(o))
	}
	o.applyDefaults()
	return restoreEntry(ctx, src, target, &o)
}

// checkTarget refuses a target that a restore must not write over: one
// that exists, unless it is an empty directory for a directory, or
// overwrite is set and it has the right type (a directory for a
// directory, anything else for the rest).
func checkTarget(target string, isDir, overwrite bool) error {
	st, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usage("target %s: %w", target, err)
	}
	if isDir != st.IsDir() {
		return usage("target %s: exists, and is not a %s", target, map[bool]string{true: "directory", false: "file"}[isDir])
	}
	if overwrite {
		return nil
	}
	if isDir {
		if f, err := os.Open(target); err == nil {
			_, err = f.Readdirnames(1)
			f.Close()
			if errors.Is(err, io.EOF) {
				return nil
			}
		}
	}
	return usage("target %s: exists; restore into a new or empty directory, or overwrite", target)
}

// restoreEntry copies the single entry src to target: into a new
// directory beside target, by the copier, then renamed into place, so
// that target is the old entry or the whole new one.
func restoreEntry(ctx context.Context, src, target string, o *Options) (*kpi.Report, error) {
	counters := kpi.New(kpi.Options{RunID: newRunID(time.Now()), Source: src, Destination: target})
	tmp, err := os.MkdirTemp(filepath.Dir(target), ".efsync-restore-")
	if err != nil {
		return nil, usage("target %s: %w", target, err)
	}
	defer os.RemoveAll(tmp)
	parent, name := filepath.Dir(src), filepath.Base(src)
	entries, _, err := partition.Restat(parent, withParents([]string{name}), true)
	if err != nil || len(entries) != 2 {
		return nil, fmt.Errorf("restore %s: %w", src, errors.Join(err, fs.ErrNotExist))
	}
	c, err := transfer.New(ctx, parent, tmp, transfer.Options{Workers: 1, NoXattrs: o.NoXattrs,
		Reporter: counters, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	in, out := make(chan partition.Chunk, 1), make(chan transfer.Result, 1)
	in <- partition.Chunk{Entries: entries, Files: 1, Bytes: entries[1].Size}
	close(in)
	stop := counters.StartPhase("copy")
	err = c.Run(ctx, in, out)
	stop()
	var failed int
	if err == nil {
		failed = len((<-out).Failed)
	}
	if err == nil && failed == 0 {
		err = os.Rename(filepath.Join(tmp, name), target)
	}
	counters.Finish(statusOf(err, failed))
	r := counters.Report()
	return &r, err
}
