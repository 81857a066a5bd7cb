package efsync

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/transfer"
)

// TestSyncClearsStalePartials plants the record of a partial huge copy
// whose file is gone from the source, with its temporary file and a
// second temporary file beside it, and shows that a run which completes
// with nothing failed removes both files, keeps the destination's other
// files, and forgets the record; a dry run before it touches none of it.
func TestSyncClearsStalePartials(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst, state := filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "state")
	must(t, os.MkdirAll(filepath.Join(src, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "d", "keep"), []byte("keep"), 0o644))
	if rep, err := Sync(context.Background(), src, dst, StateDir(state)); err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("first sync: %v", err)
	}
	pairs, _ := filepath.Glob(filepath.Join(state, "*", "pair"))
	if len(pairs) != 1 {
		t.Fatalf("pair state: %q", pairs)
	}
	record := filepath.Join(filepath.Dir(pairs[0]), "partial")
	temp, other := transfer.TempPrefix+"0123456789ab.tmp", transfer.TempPrefix+"ba9876543210.tmp"
	for _, name := range []string{temp, other} {
		must(t, os.WriteFile(filepath.Join(dst, "d", name), []byte("part"), 0o600))
	}
	recs := map[string]transfer.PartialCopy{"d/gone": {Temp: temp, Size: 1 << 30, Piece: 64 << 20, Done: []int64{0}}}
	b, err := json.Marshal(recs)
	must(t, err)
	must(t, os.WriteFile(record, b, 0o600))

	if _, err := Sync(context.Background(), src, dst, StateDir(state), DryRun(func(string) {})); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, name := range []string{temp, other} {
		if _, err := os.Stat(filepath.Join(dst, "d", name)); err != nil {
			t.Errorf("the dry run touched %s: %v", name, err)
		}
	}
	if rep, err := Sync(context.Background(), src, dst, StateDir(state)); err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v", err)
	}
	for _, name := range []string{temp, other} {
		if _, err := os.Lstat(filepath.Join(dst, "d", name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there after a complete pass: %v", name, err)
		}
	}
	if b, err := os.ReadFile(record); err != nil || string(b) != "{}" {
		t.Errorf("the record after a complete pass: %q, %v", b, err)
	}
	exactCopy(t, src, dst)
}
