package efsync_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// BenchmarkBackup and BenchmarkPrune hold the backup issue's targets,
// behind latencyfs at 1 ms per metadata call on 20,000 files (fewer when
// EFSYNC_BENCH_FILES asks for fewer, as a smoke test does): a backup of an
// unchanged source, a new snapshot of hard links only, at least 3× faster
// than `rsync -aH --link-dest` into a new directory (x-vs-rsync), and the
// prune of one snapshot at least 3× faster than `rm -rf` (x-vs-rm).
//
//	go test -run '^$' -bench 'Backup|Prune' -benchtime 3x -timeout 30m .
//
// (about 12 minutes, over go test's default timeout of 10: rsync's three
// runs take 2.5 minutes each.)
// ops-TOOL is the median number of FUSE requests of a run, and
// inflight-TOOL how many were in flight on average (requests × 1 ms over
// the run's time): on EFS those two are the cost. efsync runs with its
// default Workers, 8 × CPUs (the workers metric).

// repoDelay is the latency of each metadata call: about an EFS round trip.
const repoDelay = time.Millisecond

// repoBench is a source and a backup repository with one snapshot of it,
// made untimed in the backing directory, then mounted through latencyfs
// as EFS would be: source and repository on one mount, as hard links need
// one file system. Resets between runs work in the backing directory, at
// disk speed.
type repoBench struct {
	// config
	m     *latencyfs.Mount
	disk  string // the backing directory: src, repo, scratch trees
	view  string // the same through the mount
	meta  string // repo/.efsync as the setup left it (catalog, groups)
	first string // the first snapshot's id

	// state
	ops map[string][]latencyfs.Counts // each run's requests, by contender
}

// newRepoBench builds the source and backs it up once, then backs it up
// once more for each id in more (BenchmarkPrune's second snapshot),
// mounts the backing directory and keeps a copy of the repository's
// metadata to put back after each run.
func newRepoBench(b *testing.B, more int) *repoBench {
	b.Helper()
	ctx := b.Context()
	disk := testtree.TempDir(b)
	buildTree(b, disk+"/src", testtree.Large(1, min(20_000, benchFiles(b, 100_000))))
	rb := &repoBench{disk: disk, ops: map[string][]latencyfs.Counts{}}
	for i := range 1 + more {
		rec, err := efsync.Backup(ctx, disk+"/src", disk+"/repo", efsync.BackupOptions{})
		if err != nil || rec.Status != kpi.StatusSuccess {
			b.Fatalf("backup %d in the backing directory: %v (record %+v)", i, err, rec)
		}
		if i == 0 {
			rb.first = rec.ID
		}
	}
	rb.meta = disk + "/meta"
	if err := benchkit.Reset(ctx, rb.repo(".efsync"), rb.meta); err != nil {
		b.Fatal(err)
	}
	// NoXattrs and the 1 s caches are EFS's, as in BenchmarkSync.
	rb.m = latencyfs.Start(b, disk, latencyfs.Options{Delay: repoDelay, AttrTTL: time.Second,
		EntryTTL: time.Second, NoXattrs: true})
	rb.view = rb.m.Dir()
	b.ReportMetric(float64(8*runtime.NumCPU()), "workers") // efsync's default
	return rb
}

// repo returns the path in the backing directory of rel in the
// repository.
func (rb *repoBench) repo(rel ...string) string {
	return filepath.Join(append([]string{rb.disk, "repo"}, rel...)...)
}

// snap returns the path in the backing directory of snapshot id.
func (rb *repoBench) snap(id string) string { return rb.repo(efsync.DefaultLabel, id) }

// time runs f as contender name, cold: after the kernel's caches have
// expired, with latencyfs's counts reset, and counted after.
func (rb *repoBench) time(b *testing.B, r *benchkit.Race, name string, f func() error) {
	b.Helper()
	rb.m.WaitCache()
	if err := rb.m.Reset(); err != nil {
		b.Fatal(err)
	}
	r.Time(name, f)
	n, err := rb.m.Counts()
	if err != nil {
		b.Fatal(err)
	}
	rb.ops[name] = append(rb.ops[name], n)
}

// report reports the race and each contender's FUSE requests.
func (rb *repoBench) report(b *testing.B, r *benchkit.Race, ours string) {
	r.Report(ours)
	for _, name := range slices.Sorted(maps.Keys(rb.ops)) {
		runs := rb.ops[name]
		var total []float64
		for _, c := range runs {
			t := 0.0
			for _, v := range c.Ops {
				t += float64(v)
			}
			total = append(total, t)
		}
		ops := medianFloat(total)
		b.ReportMetric(ops, "ops-"+name)
		b.ReportMetric(ops*repoDelay.Seconds()/r.Median(name).Seconds(), "inflight-"+name)
		b.Logf("%s, FUSE requests of its last run: %v", name, runs[len(runs)-1].Ops)
	}
}

// resetMeta puts the repository's metadata back as the setup left it:
// the catalog holds the setup's records again, none marked pruned.
func (rb *repoBench) resetMeta(ctx context.Context) error {
	return benchkit.Reset(ctx, rb.meta, rb.repo(".efsync"))
}

// BenchmarkBackup races a backup of the unchanged source (efsync.Backup
// through the mount: a new snapshot, linked to the first) against
// `rsync -aH --link-dest=FIRST SRC/ NEW/`, the flags (every entry
// is root's, so --numeric-ids would change nothing). After each run,
// untimed: efsync's snapshot must equal the source (benchkit.Exact) and
// each tree must be hard links to the first snapshot, file for file; then
// the new tree is removed and the repository's metadata put back, so that
// every backup starts from the one snapshot and one catalog record.
func BenchmarkBackup(b *testing.B) {
	rsync := benchkit.Tools(b, "rsync")[0]
	rb := newRepoBench(b, 0)
	ctx := b.Context()
	r := benchkit.NewRace(b)
	for b.Loop() {
		var rec *efsync.Record
		rb.time(b, r, "efsync", func() error {
			var err error
			rec, err = efsync.Backup(ctx, rb.view+"/src", rb.view+"/repo", efsync.BackupOptions{})
			if err == nil && (rec.Status != kpi.StatusSuccess || rec.Parent != rb.first) {
				err = fmt.Errorf("status %s, parent %q: want success from %s", rec.Status, rec.Parent, rb.first)
			}
			return err
		})
		if err := benchkit.Exact(ctx, rb.disk+"/src", rb.snap(rec.ID), testtree.CompareOptions{}); err != nil {
			b.Fatalf("efsync's snapshot is not exact: %v", err)
		}
		rb.mustBeLinked(b, "efsync", rb.snap(rec.ID))
		if err := errors.Join(removeAll(rb.snap(rec.ID)), rb.resetMeta(ctx)); err != nil {
			b.Fatal(err)
		}

		rb.time(b, r, "rsync", func() error {
			_, err := benchkit.Cmd(ctx, rsync, "-aH", "--link-dest="+rb.view+"/repo/"+efsync.DefaultLabel+"/"+rb.first,
				rb.view+"/src/", rb.view+"/rsync/")
			return err
		})
		rb.mustBeLinked(b, "rsync", rb.disk+"/rsync") // else rsync did more than the same job
		if err := removeAll(rb.disk + "/rsync"); err != nil {
			b.Fatal(err)
		}
	}
	rb.report(b, r, "efsync")
}

// mustBeLinked fails b unless every regular file of tree is a hard link
// to the same path in the first snapshot. All of them are checked, not a
// sample: 20k lstat pairs on the backing disk take a fraction of a second.
func (rb *repoBench) mustBeLinked(b *testing.B, name, tree string) {
	b.Helper()
	ref := rb.snap(rb.first)
	files, linked := 0, 0
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		rel, _ := filepath.Rel(tree, p)
		a, err1 := os.Lstat(p)
		o, err2 := os.Lstat(filepath.Join(ref, rel))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if os.SameFile(a, o) {
			linked++
		}
		return nil
	})
	if err != nil {
		b.Fatalf("%s's tree: %v", name, err)
	}
	if files == 0 || linked != files {
		b.Fatalf("%s's tree: %d of %d files are links to the first snapshot, want all", name, linked, files)
	}
}

// BenchmarkPrune races efsync.Prune, deleting the older of two snapshots
// (Retention{Last: 1}; the newer one is all hard links to it) against
// `rm -rf` of an identical tree of links, both through the mount. Before
// each run, untimed, the deleted tree is put back with `cp -al` of the
// newer snapshot in the backing directory, and the repository's metadata
// as the setup left it (the pruned snapshot's record and hard-link
// groups). After efsync's run, the newer snapshot must still equal the
// source.
func BenchmarkPrune(b *testing.B) {
	tools := benchkit.Tools(b, "cp", "rm")
	rb := newRepoBench(b, 1)
	ctx := b.Context()
	l, err := os.ReadDir(rb.repo(efsync.DefaultLabel))
	if err != nil || len(l) != 2 || l[0].Name() != rb.first {
		b.Fatalf("the repository's snapshots: %v %v, want 2, %s first", l, err, rb.first)
	}
	keep := rb.snap(l[1].Name())
	farm := func(dst string) error { _, err := benchkit.Cmd(ctx, tools[0], "-al", keep, dst); return err }
	r := benchkit.NewRace(b)
	for b.Loop() {
		rb.time(b, r, "efsync", func() error {
			gone, err := efsync.Prune(ctx, rb.view+"/repo", efsync.PruneOptions{Keep: efsync.Retention{Last: 1}})
			if err == nil && !slices.Equal(gone, []string{rb.first}) {
				err = fmt.Errorf("pruned %q, want %s", gone, rb.first)
			}
			return err
		})
		rb.mustBeGone(b, "efsync", rb.snap(rb.first), rb.repo(efsync.DefaultLabel, ".deleting-"+rb.first))
		if err := benchkit.Exact(ctx, rb.disk+"/src", keep, testtree.CompareOptions{}); err != nil {
			b.Fatalf("the snapshot kept is no longer exact: %v", err)
		}
		if err := errors.Join(farm(rb.snap(rb.first)), rb.resetMeta(ctx), farm(rb.disk+"/rm")); err != nil {
			b.Fatal(err)
		}

		rb.time(b, r, "rm", func() error { _, err := benchkit.Cmd(ctx, tools[1], "-rf", rb.view+"/rm"); return err })
		rb.mustBeGone(b, "rm", rb.disk+"/rm")
	}
	rb.report(b, r, "efsync")
}

// mustBeGone fails b if any of paths exists in the backing directory.
func (rb *repoBench) mustBeGone(b *testing.B, name string, paths ...string) {
	b.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			b.Fatalf("after %s: %s is still there (%v)", name, p, err)
		}
	}
}

// removeAll removes root, read-only directories included.
func removeAll(root string) error {
	testtree.MakeWritable(root)
	return os.RemoveAll(root)
}
