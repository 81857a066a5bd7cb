package transfer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
)

// These tests put the destination behind latencyfs, which fails or slows
// down chosen calls as EFS can. The backing directory is the truth: it is
// read directly, so checks cost no FUSE calls and don't show in the counts.

// faultTime is the mtime of every entry of the fault tests' trees.
var faultTime = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func faultDir(rel string) testtree.Entry {
	return testtree.Entry{Path: rel, Type: testtree.Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: faultTime}
}

func faultFile(rel string, size int64, seed uint64) testtree.Entry {
	return testtree.Entry{Path: rel, Type: testtree.File, Mode: 0o644, UID: -1, GID: -1, Mtime: faultTime, Size: size, Seed: seed}
}

// buildTree creates entries under dir, which must exist.
func buildTree(t *testing.T, dir string, entries ...testtree.Entry) {
	t.Helper()
	tree := &testtree.Tree{Entries: entries}
	if _, err := tree.Build(dir); err != nil {
		t.Fatal(err)
	}
}

// efsMount returns a new backing directory and a latencyfs mount of it.
func efsMount(t *testing.T, opt latencyfs.Options) (string, *latencyfs.Mount) {
	t.Helper()
	backing := testtree.TempDir(t)
	return backing, latencyfs.Start(t, backing, opt)
}

// syncCtx is syncTrees under ctx, safe to call from any goroutine: it
// makes dst match src with a Walker and a Copier, and returns the report
// and the failed entries. Finish runs only when the copy succeeded.
func syncCtx(ctx context.Context, src, dst string, opt Options) (kpi.Report, []string, error) {
	counters := kpi.New(kpi.Options{})
	opt.Reporter = counters
	w, err := partition.NewWalker(src, partition.Options{Walkers: 4, MaxFiles: 50})
	if err != nil {
		return counters.Report(), nil, err
	}
	c, err := New(ctx, src, dst, opt)
	if err != nil {
		return counters.Report(), nil, err
	}
	defer c.Close()
	chunks := make(chan partition.Chunk, 4)
	results := make(chan Result)
	var failed []string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx, chunks) })
	g.Go(func() error { defer close(results); return c.Run(gctx, chunks, results) })
	g.Go(func() error {
		for r := range results {
			failed = append(failed, r.Failed...)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return counters.Report(), failed, err
	}
	return counters.Report(), failed, c.Finish(ctx)
}

// tempFiles returns the temporary files (IsTemp) anywhere under root.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if IsTemp(d.Name()) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// hashTree snapshots the tree at root with content hashes.
func hashTree(t *testing.T, root string) testtree.Snapshot {
	t.Helper()
	s, err := testtree.Scan(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// oldOrNew fails t unless every regular file in the destination snapshot
// dst holds exactly its content in the source (newer) or in the destination
// before the run (old): none is half-written. It returns the paths that
// hold new content.
func oldOrNew(t *testing.T, dst, old, newer testtree.Snapshot) map[string]bool {
	t.Helper()
	fresh := map[string]bool{}
	for rel, n := range dst {
		if n.Type != testtree.File || IsTemp(path.Base(rel)) { // tempFiles' business
			continue
		}
		switch {
		case newer[rel] != nil && newer[rel].Hash == n.Hash && newer[rel].Size == n.Size:
			fresh[rel] = true
		case old[rel] != nil && old[rel].Hash == n.Hash && old[rel].Size == n.Size:
		default:
			t.Errorf("%s: %d bytes, neither the old file nor the new one: half-written", rel, n.Size)
		}
	}
	return fresh
}

// TestFaultNoSpace fills the destination in the middle of a file: the run
// stops with a FatalError for ENOSPC, and every destination file is whole,
// old or new, with no temporary file left.
func TestFaultNoSpace(t *testing.T) {
	const limit = 1 << 20 // writes reaching past this offset in dst/d fail
	backing, m := efsMount(t, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/d/*", Errno: syscall.ENOSPC, AfterBytes: limit},
	}})
	src, dst := testtree.TempDir(t), filepath.Join(backing, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	buildTree(t, src, faultDir("."), faultDir("d"), faultDir("e"),
		faultFile("d/a", 16<<10, 1), faultFile("d/b", 200<<10, 2), faultFile("d/big", 4<<20, 3),
		faultFile("d/c", 16<<10, 4), faultFile("e/x", 64<<10, 5), faultFile("e/y", 2<<20, 6))
	// The destination holds older versions of some files, the big one too.
	buildTree(t, dst, faultDir("d"), faultDir("e"),
		faultFile("d/a", 10<<10, 11), faultFile("d/big", 2<<20, 13), faultFile("e/x", 64<<10, 15))
	old, newer := hashTree(t, dst), hashTree(t, src)

	rep, failed, err := syncTrees(t, src, filepath.Join(m.Dir(), "dst"), Options{})
	var fe *FatalError
	if !errors.As(err, &fe) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("sync returned %v (%T), want a *FatalError for ENOSPC", err, err)
	}
	if fe.Path != "d/big" {
		t.Errorf("FatalError.Path = %q, want d/big", fe.Path)
	}
	t.Logf("error: %v; failed %q; files %+v", err, failed, rep.Files)
	if rep.Errors.ByClass.NoSpace == 0 {
		t.Errorf("kpi counts no ENOSPC error: %+v", rep.Errors)
	}
	if c, err := m.Counts(); err != nil {
		t.Fatal(err)
	} else if c.BytesWritten < limit {
		t.Errorf("%d bytes written: the fault hit before the middle of d/big", c.BytesWritten)
	}
	if tmp := tempFiles(t, backing); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	after := hashTree(t, dst)
	fresh := oldOrNew(t, after, old, newer)
	if after["d/big"] == nil {
		t.Errorf("d/big is gone: the old file should have stayed")
	}
	if fresh["d/big"] {
		t.Errorf("d/big has its new content though every write past %d bytes failed", limit)
	}
}

// TestFaultEIO fails the create, write or link of one file, or of one
// hard-link group, with EIO, always or a few times. The call is retried
// (the counts show each try); a file that fails for good is reported and
// the others are copied; a transient error leaves an exact copy.
func TestFaultEIO(t *testing.T) {
	const retries = 3 // Options.Retries' default
	// bad/ holds only what the fault is for, so that a fault on bad/*
	// hits those temporary files alone; 1 KiB is one write call.
	badFile := []testtree.Entry{faultFile("bad/f", 1<<10, 5)}
	// A group whose destination copy of a/h is up to date, so that bad/l
	// and bad/n are linked to it.
	badLinks := []testtree.Entry{faultDir("a"), faultFile("a/h", 1<<10, 6),
		{Path: "bad/l", Type: testtree.File, LinkOf: "a/h"}, {Path: "bad/n", Type: testtree.File, LinkOf: "a/h"}}
	anchor := []testtree.Entry{faultDir("a"), faultFile("a/h", 1<<10, 6)}
	// A group copied whole: the only data written past 1 MiB.
	bigGroup := []testtree.Entry{faultFile("bad/g", 2<<20, 7), {Path: "ok2/m", Type: testtree.File, LinkOf: "bad/g"}}
	bigWrite := latencyfs.Fault{Op: "write", Path: "dst/*/*", AfterBytes: 1 << 20}
	tests := []struct {
		name  string
		bad   []testtree.Entry // added to the source tree
		seed  []testtree.Entry // made in the destination first
		fault latencyfs.Fault  // Errno EIO; a Path of "" is dst/bad/*
		count string           // the op that fails once per try, if not fault.Op
		extra int64            // count calls more than in a clean copy
		// failed are the entries reported, sorted; with oneOf, one
		// of them is and the others are copied. diffs are the
		// differences left, as "path field".
		failed []string
		oneOf  bool
		diffs  []string
	}{
		{name: "persistent create", bad: badFile, fault: latencyfs.Fault{Op: "create"}, extra: retries,
			failed: []string{"bad/f"}, diffs: []string{"bad/f missing"}},
		{name: "persistent write", bad: badFile, fault: latencyfs.Fault{Op: "write"}, extra: retries,
			failed: []string{"bad/f"}, diffs: []string{"bad/f missing"}},
		{name: "transient create", bad: badFile, fault: latencyfs.Fault{Op: "create", Times: 2}, extra: 2},
		{name: "transient write", bad: badFile, fault: latencyfs.Fault{Op: "write", Times: 2}, extra: 2},
		{name: "persistent link", bad: badLinks, seed: anchor, fault: latencyfs.Fault{Op: "link"}, extra: 2 * retries,
			failed: []string{"bad/l", "bad/n"}, diffs: []string{"a/h links", "bad/l missing", "bad/n missing"}},
		{name: "transient link", bad: badLinks, seed: anchor, fault: latencyfs.Fault{Op: "link", Times: 2}, extra: 2},
		// Each member is tried as the one copied, then reported.
		{name: "persistent write of a group", bad: bigGroup, fault: bigWrite, count: "create", extra: 2*(retries+1) - 1,
			failed: []string{"bad/g", "ok2/m"}, diffs: []string{"bad/g missing", "ok2/m missing"}},
		// The first member tried fails for good; the next is copied.
		{name: "first of a group fails", bad: bigGroup, fault: withTimes(bigWrite, retries+1), count: "create", extra: retries + 1,
			failed: []string{"bad/g", "ok2/m"}, oneOf: true},
		{name: "transient write of a group", bad: bigGroup, fault: withTimes(bigWrite, 2), count: "create", extra: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backing, m := efsMount(t, latencyfs.Options{})
			src := testtree.TempDir(t)
			buildTree(t, src, append([]testtree.Entry{faultDir("."), faultDir("ok1"), faultDir("ok2"), faultDir("bad"),
				faultFile("ok1/a", 16<<10, 1), faultFile("ok1/b", 300<<10, 2), faultFile("ok2/c", 1<<10, 3),
				faultFile("ok2/d", 0, 4)}, tt.bad...)...)
			fault, count := tt.fault, tt.count
			fault.Errno = syscall.EIO
			if fault.Path == "" {
				fault.Path = "dst/bad/*"
			}
			if count == "" {
				count = fault.Op
			}

			// run syncs src into backing/name through the mount, under
			// faults, and returns what reached the file system.
			run := func(name string, faults []latencyfs.Fault) (kpi.Report, []string, latencyfs.Counts, error) {
				t.Helper()
				dst := filepath.Join(backing, name)
				if err := os.Mkdir(dst, 0o755); err != nil {
					t.Fatal(err)
				}
				buildTree(t, dst, tt.seed...)
				if err := m.SetFaults(faults); err != nil {
					t.Fatal(err)
				}
				if err := m.Reset(); err != nil {
					t.Fatal(err)
				}
				rep, failed, err := syncTrees(t, src, filepath.Join(m.Dir(), name), Options{Retries: retries})
				c, cerr := m.Counts()
				if cerr != nil {
					t.Fatal(cerr)
				}
				slices.Sort(failed)
				return rep, failed, c, err
			}
			// A run without faults counts the calls of a clean copy.
			_, failed, clean, err := run("clean", nil)
			if err != nil || len(failed) > 0 {
				t.Fatalf("clean sync: %v, failed %q", err, failed)
			}
			rep, failed, c, err := run("dst", []latencyfs.Fault{fault})
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if got := c.Ops[count] - clean.Ops[count]; got != tt.extra {
				t.Errorf("%d %s calls more than a clean copy (%d), want %d", got, count, clean.Ops[count], tt.extra)
			}
			dst := filepath.Join(backing, "dst")
			if tmp := tempFiles(t, dst); len(tmp) > 0 {
				t.Errorf("temporary files left: %q", tmp)
			}
			if len(tt.failed) == 0 {
				if len(failed) > 0 || rep.Errors.Total != 0 {
					t.Errorf("failed %q, errors %+v; want none", failed, rep.Errors)
				}
				exact(t, src, dst, compareOpts())
				return
			}
			wantFailed, wantDiffs := tt.failed, tt.diffs
			if tt.oneOf {
				wantFailed, wantDiffs = oneFailed(failed, tt.failed)
			}
			if !slices.Equal(failed, wantFailed) {
				t.Errorf("failed = %q, want %q", failed, wantFailed)
			}
			var reported []string
			for _, e := range rep.Errors.First {
				if !strings.Contains(e.Message, syscall.EIO.Error()) {
					t.Errorf("kpi error %+v is not EIO", e)
				}
				reported = append(reported, e.Path)
			}
			slices.Sort(reported)
			if !slices.Equal(reported, wantFailed) || rep.Errors.Total != int64(len(wantFailed)) || rep.Files.Failed != int64(len(wantFailed)) {
				t.Errorf("kpi: errors %+v, failed %d; want %q", rep.Errors, rep.Files.Failed, wantFailed)
			}
			diffs, err := testtree.Compare(context.Background(), src, dst, compareOpts())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.Path+" "+d.Field)
			}
			if !slices.Equal(got, wantDiffs) {
				t.Errorf("differences:\n%v\nwant %q", diffs, wantDiffs)
			}
		})
	}
}

func withTimes(f latencyfs.Fault, n int) latencyfs.Fault {
	f.Times = n
	return f
}

// oneFailed returns what to expect when one of the members of a group
// fails and the others are copied: that one reported and missing, the
// others short of its link. failed is what was reported.
func oneFailed(failed, members []string) (wantFailed, wantDiffs []string) {
	if len(failed) != 1 || !slices.Contains(members, failed[0]) {
		return []string{"one of " + strings.Join(members, ", ")}, nil
	}
	for _, p := range members {
		if p == failed[0] {
			wantDiffs = append(wantDiffs, p+" missing")
		} else {
			wantDiffs = append(wantDiffs, p+" links")
		}
	}
	return failed, wantDiffs
}
