package transfer

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/zeebo/xxh3"
)

// TestOnDoneHashes copies a tree with every shape, sparse files among
// them, with Hash and OnDone: every entry is reported once, each copied
// regular file with the xxh3-128 of its content as read back from the
// source; a second run reports every entry unchanged and hashes nothing.
func TestOnDoneHashes(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	o := testtree.Small(31)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	want := hashTree(t, src)
	for run := range 2 {
		var mu sync.Mutex
		got := map[string]Done{}
		mustSync(t, src, dst, Options{Hash: true, OnDone: func(d Done) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := got[d.Entry.Path]; dup {
				t.Errorf("run %d: %s reported twice", run, d.Entry.Path)
			}
			got[d.Entry.Path] = d
		}})
		hashed := 0
		for rel, n := range want {
			d, ok := got[rel]
			if !ok {
				if rel != "." {
					t.Errorf("run %d: %s not reported", run, rel)
				}
				continue
			}
			if run == 1 && d.Outcome != kpi.Unchanged {
				t.Errorf("run %d: %s: %v, want unchanged", run, rel, d.Outcome)
			}
			if !d.Hashed {
				continue
			}
			hashed++
			if n.Type != testtree.File {
				t.Errorf("run %d: %s, a %v, hashed", run, rel, n.Type)
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, rel))
			if err != nil {
				t.Fatal(err)
			}
			if d.Sum != xxh3.Hash128(b).Bytes() {
				t.Errorf("run %d: %s: wrong hash", run, rel)
			}
		}
		if run == 0 && hashed == 0 || run == 1 && hashed > 0 {
			t.Errorf("run %d hashed %d files", run, hashed)
		}
	}
}
