package efsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// smallTree builds a small tree in base/src and returns src and base/dst.
func smallTree(t *testing.T) (string, string) {
	t.Helper()
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.Mkdir(src, 0o755))
	o := testtree.Small(5)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

// TestStateDirInsideTheTrees checks that a state directory the user puts
// in the destination survives the delete pass, and one in the source is
// not copied.
func TestStateDirInsideTheTrees(t *testing.T) {
	src, dst := smallTree(t)
	inDst := filepath.Join(dst, ".efsync-state")
	if _, err := Sync(context.Background(), src, dst, Delete(), StateDir(inDst)); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(context.Background(), src, dst, Delete(), StateDir(inDst))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("second run: %v %v", err, rep.Status)
	}
	runs, err := Runs(inDst, src, dst)
	if err != nil || len(runs) != 2 {
		t.Fatalf("the state in the destination lost its runs: %v, %d runs", err, len(runs))
	}

	inSrc := filepath.Join(src, "state")
	must(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "sub", "state"), []byte("data, not state"), 0o644))
	dst2 := dst + "2"
	if _, err := Sync(context.Background(), src, dst2, Delete(), StateDir(inSrc)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inSrc)); err != nil {
		t.Fatalf("no state in the source: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst2, "state")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state in the source was copied: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dst2, "sub", "state")); err != nil || string(b) != "data, not state" {
		t.Errorf("a file named like the state was left out: %q %v", b, err)
	}
}

// TestOneRunAtATime checks that a second run of the same pair is refused,
// as bad input, while the first holds the state.
func TestOneRunAtATime(t *testing.T) {
	src, dst := smallTree(t)
	state := t.TempDir()
	root, _ := stateRoot(state)
	rs, rd, _ := absPair(src, filepath.Clean(dst))
	held, err := openPair(root, rs, rd)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sync(context.Background(), src, dst, StateDir(state))
	var ue *UsageError
	if !errors.Is(err, ErrBusy) || !errors.As(err, &ue) {
		t.Errorf("second run: %v, want ErrBusy as a *UsageError", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run touched the destination: %v", err)
	}
	held.close()
	if _, err := Sync(context.Background(), src, dst, StateDir(state)); err != nil {
		t.Errorf("after the first ends: %v", err)
	}
}

// TestProgressSnapshots checks that Progress gets snapshots while the
// run goes on, and that they only grow.
func TestProgressSnapshots(t *testing.T) {
	src, dst := smallTree(t)
	var mu sync.Mutex
	var seen []kpi.Report
	rep, err := Sync(context.Background(), src, dst, WithOptions(Options{ProgressEvery: 1, Progress: func(r kpi.Report) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
	}}))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("Progress was never called")
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Scanned.Total() < seen[i-1].Scanned.Total() || seen[i].Bytes.Read < seen[i-1].Bytes.Read {
			t.Fatalf("snapshot %d went back: %+v after %+v", i, seen[i].Scanned, seen[i-1].Scanned)
		}
	}
	if last := seen[len(seen)-1]; last.Scanned.Total() > rep.Scanned.Total() || last.RunID != rep.RunID {
		t.Errorf("a snapshot is ahead of the final report, or of another run")
	}
}

// TestStoppedRunJournalsWhatItDidNotCopy cancels a run once it has copied
// a chunk and checks that it is Incomplete, that its journal says what it
// didn't do (chunks pending, or a crawl cut short: the resume then makes a
// full pass), and that resuming it makes an exact copy.
func TestStoppedRunJournalsWhatItDidNotCopy(t *testing.T) {
	src, dst := smallTree(t)
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := Sync(ctx, src, dst, StateDir(state), Delete(),
		func(o *Options) {
			o.MaxFiles, o.Workers, o.ProgressEvery = 5, 1, 1
			o.Progress = func(r kpi.Report) {
				if len(r.Partitions) > 0 {
					cancel()
				}
			}
		})
	if !errors.Is(err, context.Canceled) || rep.Status != kpi.StatusIncomplete {
		t.Fatalf("got %v, %v; want Canceled, Incomplete", err, rep.Status)
	}
	runs, err := Runs(state, src, dst)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	r := runs[0]
	if r.Done == 0 || (r.Pending == 0 && r.Crawled) || r.Finished || r.Status != string(kpi.StatusIncomplete) {
		t.Fatalf("journal: %s; want chunks done, and pending ones or a crawl cut short", r)
	}
	rep, err = Sync(context.Background(), src, dst, StateDir(state), Delete(), Resume(r.ID))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("resume: %v %v", err, rep.Status)
	}
	exactCopy(t, src, dst)
	runs, _ = Runs(state, src, dst)
	if r := runs[0]; r.Pending != 0 || r.Failed != 0 || !r.Finished {
		t.Errorf("journal after the resume: %+v", r)
	}
}

func TestDeleteLimit(t *testing.T) {
	tests := []struct {
		n, scanned, max int64
		pct             float64
		ok              bool
	}{
		{0, 0, 0, 0, true},
		{100, 10, 0, 0, true}, // no limit
		{10, 100, 10, 0, true},
		{11, 100, 10, 0, false},
		{10, 90, 0, 10, true}, // 10 of 100
		{11, 89, 0, 10, false},
		{5, 0, 0, 50, false}, // all of the destination
		{3, 1000, 2, 50, false},
	}
	for _, tt := range tests {
		err := deleteLimit(tt.n, tt.scanned, tt.max, tt.pct)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrTooManyDeletes)) {
			t.Errorf("deleteLimit(%d, %d, %d, %g) = %v", tt.n, tt.scanned, tt.max, tt.pct, err)
		}
	}
}

// TestSyncLinkDestAndInPlace checks that the engine passes its content
// options to the copier: a snapshot made with LinkDest shares the inodes of
// unchanged files with the previous one, and an InPlace run keeps a changed
// file's inode.
func TestSyncLinkDestAndInPlace(t *testing.T) {
	src, dst := smallTree(t)
	state := t.TempDir()
	if _, err := Sync(context.Background(), src, dst, StateDir(state)); err != nil {
		t.Fatal(err)
	}
	f := firstFile(t, src)
	snap := dst + ".1"
	rep, err := Sync(context.Background(), src, snap, StateDir(state), func(o *Options) { o.LinkDest = []string{dst} })
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("link-dest: %v %v", err, rep.Status)
	}
	exactCopy(t, src, snap)
	a, _ := os.Stat(filepath.Join(dst, f))
	b, _ := os.Stat(filepath.Join(snap, f))
	if !os.SameFile(a, b) {
		t.Errorf("%s: not linked from the previous snapshot", f)
	}

	big := filepath.Join(src, "inplace.bin")
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	must(t, os.WriteFile(big, data, 0o644))
	if _, err := Sync(context.Background(), src, dst, StateDir(state)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(dst, "inplace.bin"))
	copy(data[1<<20:], []byte("a change in the middle"))
	must(t, os.WriteFile(big, data, 0o644))
	rep, err = Sync(context.Background(), src, dst, StateDir(state), func(o *Options) { o.InPlace = true })
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("in place: %v %v", err, rep.Status)
	}
	exactCopy(t, src, dst)
	after, _ := os.Stat(filepath.Join(dst, "inplace.bin"))
	if !os.SameFile(before, after) {
		t.Error("InPlace made a new inode")
	}
}
