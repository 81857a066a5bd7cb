package efsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// scan returns the snapshot of root, hashed.
func scan(t *testing.T, root string) testtree.Snapshot {
	t.Helper()
	s, err := testtree.Scan(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameAs fails t unless the tree at root is what before shows.
func sameAs(t *testing.T, what string, before testtree.Snapshot, root string) {
	t.Helper()
	for _, d := range testtree.CompareSnapshots(before, scan(t, root), testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0}) {
		t.Errorf("%s: %s", what, d)
	}
}

// backupOK runs a backup that must succeed, and returns its record.
func backupOK(t *testing.T, src, repo string, o BackupOptions) *Record {
	t.Helper()
	if o.Workers == 0 {
		o.Workers = 4
	}
	rec, err := Backup(context.Background(), src, repo, o)
	if err != nil || rec.Status != kpi.StatusSuccess || rec.Snapshot == "" {
		t.Fatalf("backup: %v, record %+v", err, rec)
	}
	return rec
}

// repoTree builds a small tree of every shape in base/src, and returns
// base and src.
func repoTree(t *testing.T) (base, src string) {
	t.Helper()
	src, _ = smallTree(t)
	return filepath.Dir(src), src
}

// TestBackupKeepsN makes five backups with mutations between them, at
// keep=3: exactly the last three snapshots are left, each equal to the
// source as it was when it was taken, and a file unchanged between two
// snapshots is one inode in both.
func TestBackupKeepsN(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	var ids []string
	var states []testtree.Snapshot
	for i := range 5 {
		if i > 0 {
			if _, err := testtree.Mutate(src, testtree.MutateOptions{Seed: int64(i), Percent: 10}); err != nil {
				t.Fatal(err)
			}
		}
		states = append(states, scan(t, src))
		rec := backupOK(t, src, repo, BackupOptions{Keep: Retention{Last: 3}})
		ids = append(ids, rec.ID)
	}
	l, err := readLabel(repo, DefaultLabel)
	must(t, err)
	if len(l.complete) != 3 || l.complete[0] != ids[2] || l.complete[2] != ids[4] || len(l.building)+len(l.deleting) > 0 {
		t.Fatalf("snapshots left %q (building %q, deleting %q), want %q", l.complete, l.building, l.deleting, ids[2:])
	}
	for i := 2; i < 5; i++ {
		sameAs(t, "snapshot "+ids[i], states[i], filepath.Join(repo, DefaultLabel, ids[i]))
	}
	shared, copied := 0, 0
	old, cur := states[3], states[4]
	for rel, n := range cur {
		o, ok := old[rel]
		if !ok || n.Type != testtree.File || len(testtree.CompareSnapshots(testtree.Snapshot{rel: o}, testtree.Snapshot{rel: n}, testtree.CompareOptions{})) > 0 {
			continue
		}
		a, err := os.Lstat(filepath.Join(repo, DefaultLabel, ids[3], rel))
		must(t, err)
		b, err := os.Lstat(filepath.Join(repo, DefaultLabel, ids[4], rel))
		must(t, err)
		if os.SameFile(a, b) {
			shared++
		} else if len(n.Links) == 0 { // a source hard-link group may be copied anew
			copied++
			t.Errorf("%s is unchanged but not shared between the last two snapshots", rel)
		}
	}
	if shared == 0 {
		t.Error("no unchanged file shared: the test shows nothing")
	}
	recs, err := NewFileCatalog(repo).List(context.Background())
	must(t, err)
	pruned := 0
	for _, r := range recs {
		if !r.Pruned.IsZero() {
			pruned++
		}
	}
	if len(recs) != 5 || pruned != 2 {
		t.Errorf("catalog: %d records, %d pruned; want 5 and 2", len(recs), pruned)
	}
}

// TestBackupMetadataChangeKeepsOlder changes only the mode of one file,
// the owner of another (as root) and the mtime of a third: the new
// snapshot gives each a new inode, and the older snapshot stays exactly
// as it was.
func TestBackupMetadataChangeKeepsOlder(t *testing.T) {
	base := testtree.TempDir(t)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	must(t, os.Mkdir(src, 0o755))
	for _, n := range []string{"chmod", "chown", "touch", "same"} {
		must(t, os.WriteFile(filepath.Join(src, n), []byte("content of "+n), 0o644))
	}
	first := backupOK(t, src, repo, BackupOptions{})
	before := scan(t, first.Snapshot)
	must(t, os.Chmod(filepath.Join(src, "chmod"), 0o600))
	changed := []string{"chmod", "touch"}
	if os.Geteuid() == 0 {
		must(t, os.Lchown(filepath.Join(src, "chown"), 1234, 5678))
		changed = append(changed, "chown")
	}
	mark := time.Date(2020, 2, 2, 2, 2, 2, 2, time.UTC)
	must(t, os.Chtimes(filepath.Join(src, "touch"), mark, mark))
	second := backupOK(t, src, repo, BackupOptions{})
	sameAs(t, "the older snapshot", before, first.Snapshot)
	sameAs(t, "the new snapshot", scan(t, src), second.Snapshot)
	for _, n := range append(changed, "same") {
		a, err := os.Lstat(filepath.Join(first.Snapshot, n))
		must(t, err)
		b, err := os.Lstat(filepath.Join(second.Snapshot, n))
		must(t, err)
		if got, want := os.SameFile(a, b), n == "same"; got != want {
			t.Errorf("%s: shared between the snapshots = %v, want %v", n, got, want)
		}
	}
}

// TestBackupRefusesEmptySource backs up an empty directory that is not
// a mount point, with RequireMount: it fails with ErrUnsafeSource and
// the repository, which holds a snapshot, is untouched.
func TestBackupRefusesEmptySource(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	backupOK(t, src, repo, BackupOptions{})
	before := scan(t, repo)
	empty := filepath.Join(base, "empty")
	must(t, os.Mkdir(empty, 0o755))
	rec, err := Backup(context.Background(), empty, repo, BackupOptions{Options: Options{RequireMount: true}})
	if !errors.Is(err, ErrUnsafeSource) || rec != nil {
		t.Fatalf("backup of an empty source: %v, %+v; want ErrUnsafeSource", err, rec)
	}
	sameAs(t, "the repository", before, repo)
}

// TestBackupWaitsForPrune holds the repository's lock as a prune would:
// a prune fails at once, naming the holder; a backup that may wait does,
// and succeeds once the lock is freed.
func TestBackupWaitsForPrune(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	backupOK(t, src, repo, BackupOptions{})
	held, err := lockRepo(context.Background(), repo, lockOptions{Owner: "a test"})
	must(t, err)
	_, err = Prune(context.Background(), repo, PruneOptions{Keep: Retention{Last: 1}})
	var le *LockedError
	if !errors.Is(err, ErrRepoLocked) || !errors.As(err, &le) || le.Holder.Owner != "a test" {
		t.Fatalf("prune of a locked repository: %v", err)
	}
	time.AfterFunc(300*time.Millisecond, func() { held.Unlock() })
	start := time.Now()
	backupOK(t, src, repo, BackupOptions{LockWait: time.Minute})
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("the backup waited %s for a lock held 300 ms", waited)
	}
}

// TestBackupRacesPrune runs backups and prunes at once on one
// repository: each either runs or fails with ErrRepoLocked, and every
// snapshot left equals the source.
func TestBackupRacesPrune(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	backupOK(t, src, repo, BackupOptions{})
	want := scan(t, src)
	errs := make(chan error, 6)
	for i := range 6 {
		go func() {
			var err error
			if i%2 == 0 {
				_, err = Backup(context.Background(), src, repo, BackupOptions{Options: Options{Workers: 4}})
			} else {
				_, err = Prune(context.Background(), repo, PruneOptions{Keep: Retention{Last: 1}})
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil && !errors.Is(err, ErrRepoLocked) {
			t.Errorf("a racer failed otherwise than on the lock: %v", err)
		}
	}
	l, err := readLabel(repo, DefaultLabel)
	must(t, err)
	if len(l.complete) == 0 {
		t.Fatal("no snapshot left")
	}
	for _, id := range l.complete {
		sameAs(t, "snapshot "+id, want, filepath.Join(repo, DefaultLabel, id))
	}
}

// TestRestore restores a whole snapshot, a subdirectory and a single
// file, each exactly as the snapshot holds it, and shows that a restore
// over an existing tree refuses by default and, with Overwrite, deletes
// nothing there.
func TestRestore(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	rec := backupOK(t, src, repo, BackupOptions{})
	ctx := context.Background()
	opts := RestoreOptions{Options: Options{Workers: 4}}

	whole := filepath.Join(base, "whole")
	if _, err := Restore(ctx, repo, rec.ID, "", whole, opts); err != nil {
		t.Fatal(err)
	}
	exactCopy(t, rec.Snapshot, whole)

	var dir, file string // a subdirectory and a regular file in it
	for rel, n := range scan(t, rec.Snapshot) {
		if n.Type == testtree.File && len(n.Links) == 0 && filepath.Dir(rel) != "." && (file == "" || rel < file) {
			dir, file = filepath.Dir(rel), rel
		}
	}
	if file == "" {
		t.Fatal("no file in a subdirectory")
	}
	sub := filepath.Join(base, "sub")
	if _, err := Restore(ctx, repo, rec.ID, dir, sub, opts); err != nil {
		t.Fatal(err)
	}
	want := scan(t, filepath.Join(rec.Snapshot, dir))
	sameAs(t, "restored "+dir, want, sub)

	one := filepath.Join(base, "one")
	must(t, os.Mkdir(one, 0o755))
	if _, err := Restore(ctx, repo, rec.ID, file, filepath.Join(one, "restored"), opts); err != nil {
		t.Fatal(err)
	}
	got := scan(t, one)
	wantFile := *want[filepath.Base(file)]
	if n, ok := got["restored"]; !ok {
		t.Fatal("the file was not restored")
	} else {
		for _, d := range testtree.CompareSnapshots(testtree.Snapshot{"f": &wantFile}, testtree.Snapshot{"f": n},
			testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0}) {
			t.Errorf("restored file: %s", d)
		}
	}
	if len(got) != 2 { // "." and the file
		t.Errorf("a single-file restore left %d entries in its directory", len(got))
	}

	// Over an existing tree: refused by default, then Overwrite keeps
	// what the snapshot lacks.
	must(t, os.WriteFile(filepath.Join(sub, "mine"), []byte("not in the snapshot"), 0o644))
	before := scan(t, sub)
	if _, err := Restore(ctx, repo, rec.ID, dir, sub, opts); !isUsage(err) {
		t.Errorf("a restore over a non-empty tree: %v, want a usage error", err)
	}
	sameAs(t, "a refused restore's target", before, sub)
	o := opts
	o.Overwrite = true
	if _, err := Restore(ctx, repo, rec.ID, dir, sub, o); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(sub, "mine")); err != nil || string(b) != "not in the snapshot" {
		t.Errorf("an overwriting restore deleted or changed a file the snapshot lacks: %q, %v", b, err)
	}
	if _, err := Restore(ctx, repo, rec.ID, "../..", filepath.Join(base, "escape"), opts); !isUsage(err) {
		t.Errorf("a path out of the snapshot: %v, want a usage error", err)
	}
}

func isUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

// TestBackupSuspectStopsPrune empties most of the source: the next
// snapshot is kept but marked Suspect, and the prune after it deletes
// nothing, as does a later Prune, until one with Force.
func TestBackupSuspectStopsPrune(t *testing.T) {
	base := testtree.TempDir(t)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	must(t, os.MkdirAll(filepath.Join(src, "d"), 0o755))
	for i := range 10 {
		must(t, os.WriteFile(filepath.Join(src, "d", strconv.Itoa(i)), []byte("x"), 0o644))
	}
	keep := Retention{Last: 1}
	first := backupOK(t, src, repo, BackupOptions{Keep: keep})
	must(t, os.RemoveAll(filepath.Join(src, "d")))
	second := backupOK(t, src, repo, BackupOptions{Keep: keep})
	if !second.Suspect {
		t.Errorf("a snapshot of %d entries after one of %d is not suspect", second.Files, first.Files)
	}
	if _, err := os.Stat(first.Snapshot); err != nil {
		t.Fatalf("the prune after a suspect snapshot deleted the one before: %v", err)
	}
	if gone, err := Prune(context.Background(), repo, PruneOptions{Keep: keep}); !errors.Is(err, ErrSuspect) || len(gone) > 0 {
		t.Errorf("prune after a suspect snapshot: %q, %v; want ErrSuspect", gone, err)
	}
	gone, err := Prune(context.Background(), repo, PruneOptions{Keep: keep, Force: true})
	if err != nil || len(gone) != 1 || gone[0] != first.ID {
		t.Errorf("forced prune: %q, %v; want %s", gone, err, first.ID)
	}
}

// TestBackupGivenID backs up under an id made in advance, as an
// orchestrator does, and refuses one that doesn't sort after the newest
// snapshot, touching nothing.
func TestBackupGivenID(t *testing.T) {
	base, src := repoTree(t)
	repo := filepath.Join(base, "repo")
	early := NewBackupID(time.Now())
	id := NewBackupID(time.Now().Add(time.Second))
	rec := backupOK(t, src, repo, BackupOptions{ID: id})
	if rec.ID != id || filepath.Base(rec.Snapshot) != id {
		t.Errorf("backup %s made snapshot %s, want %s", rec.ID, rec.Snapshot, id)
	}
	before := scan(t, repo)
	for _, bad := range []string{early, "not-an-id"} {
		if _, err := Backup(context.Background(), src, repo, BackupOptions{ID: bad}); !isUsage(err) {
			t.Errorf("backup id %s: %v, want a usage error", bad, err)
		}
	}
	sameAs(t, "the repository", before, repo)
}
