package transfer

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

func TestDryRunItemizesAndTouchesNothing(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	o := testtree.Small(31)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	if _, _, err := syncTrees(t, src, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	muts, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 3, Percent: 5})
	if err != nil {
		t.Fatal(err)
	}
	before, err := testtree.Scan(context.Background(), dst, true)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	lines := map[string]string{}
	_, failed, err := syncTrees(t, src, dst, Options{DryRun: true, Delete: true, Itemize: func(l string) {
		mu.Lock()
		defer mu.Unlock()
		flags, path, _ := strings.Cut(l, " ")
		lines[strings.TrimSuffix(strings.TrimLeft(path, " "), "/")] = flags
	}})
	if err != nil || len(failed) > 0 {
		t.Fatalf("dry run: %v, failed %q", err, failed)
	}
	after, err := testtree.Scan(context.Background(), dst, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range testtree.CompareSnapshots(before, after, testtree.CompareOptions{}) {
		t.Errorf("dry run changed the destination: %s", d)
	}
	for _, m := range muts {
		p := m.Path
		if m.Kind == testtree.NewHardLink || (m.Kind == testtree.Rename) {
			p = m.To
		}
		if _, ok := lines[p]; !ok {
			t.Errorf("%s of %q not itemized", m.Kind, p)
		}
	}
	t.Logf("%d lines for %d mutations", len(lines), len(muts))
}
