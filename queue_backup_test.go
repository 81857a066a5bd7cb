package efsync

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// TestBackupThroughQueue: a backup whose copies workers do is a snapshot
// like any other: exact, with its hard-link groups recorded, and a file
// unchanged since the parent snapshot is the parent's inode (the task
// carries the link-dest), a group split since is not linked back.
func TestBackupThroughQueue(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	q := NewMemQueue(time.Minute)
	startWorkers(t, q, 3)
	o := BackupOptions{Options: Options{Queue: q, MaxFiles: 8}}
	first := backupOK(t, src, repo, o)
	sameAs(t, "first snapshot", scan(t, src), filepath.Join(repo, DefaultLabel, first.ID))
	groups, err := readList(filepath.Join(repo, repoMeta, "groups", first.ID))
	must(t, err)
	if len(groups) == 0 {
		t.Error("no hard-link group recorded: the tree has some")
	}

	if _, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 7, Percent: 10}); err != nil {
		t.Fatal(err)
	}
	before := scan(t, filepath.Join(repo, DefaultLabel, first.ID))
	now := scan(t, src)
	second := backupOK(t, src, repo, o)
	sameAs(t, "second snapshot", now, filepath.Join(repo, DefaultLabel, second.ID))
	sameAs(t, "first snapshot after the second", before, filepath.Join(repo, DefaultLabel, first.ID))
	wrote := map[string]bool{}
	wr, err := manifest.Open(wrotePath(repo, second.ID))
	must(t, err)
	for {
		r, err := wr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		wrote[r.Path] = true
	}
	wr.Close()
	shared := 0
	for rel, n := range now {
		old, ok := before[rel]
		if !ok || n.Type != testtree.File || len(n.Links) > 0 ||
			len(testtree.CompareSnapshots(testtree.Snapshot{rel: old}, testtree.Snapshot{rel: n}, testtree.CompareOptions{})) > 0 {
			continue
		}
		a, err := os.Lstat(filepath.Join(repo, DefaultLabel, first.ID, rel))
		must(t, err)
		b, err := os.Lstat(filepath.Join(repo, DefaultLabel, second.ID, rel))
		must(t, err)
		if !os.SameFile(a, b) {
			t.Errorf("%s is unchanged but a new inode: the workers did not link from the parent", rel)
		} else {
			shared++
		}
		if wrote[rel] {
			t.Errorf("%s is linked from the parent, but in the list of what the backup wrote", rel)
		}
	}
	if shared == 0 || len(wrote) == 0 {
		t.Errorf("%d unchanged files, %d written: the test shows nothing", shared, len(wrote))
	}
	// The manifest holds what the workers copied, though no copy of
	// theirs reported to the leader's manifest log.
	for _, full := range []bool{false, true} {
		vr, err := Verify(context.Background(), repo, second.ID, VerifyOptions{Full: full})
		if err != nil || vr.Status != kpi.StatusSuccess || vr.Checked == 0 {
			t.Errorf("verify (full %v): %v, %+v", full, err, vr)
		}
	}
}

// TestQueueRefusesWhatWorkersCantDo: a shared run can't be a dry run,
// resume a run, nor copy in place; refused as bad input, before the
// destination is touched.
func TestQueueRefusesWhatWorkersCantDo(t *testing.T) {
	src, dst := queueTree(t)
	before := scan(t, dst)
	q := NewMemQueue(time.Minute)
	for name, o := range map[string]Option{
		"dry run":  DryRun(func(string) {}),
		"resume":   Resume("20300101T000000.000Z-abcdef"),
		"in place": func(o *Options) { o.InPlace = true },
	} {
		_, err := Sync(context.Background(), src, dst, WithQueue(q), o)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	sameAs(t, "destination", before, dst)
}
