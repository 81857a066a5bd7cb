package transfer

import (
	"os"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

func compareOpts() testtree.CompareOptions {
	return testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0}
}

func TestCopyEveryShape(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	if _, err := testtree.Plan(testtree.Small(21)).Build(src); err != nil {
		t.Fatal(err)
	}
	rep, failed, err := syncTrees(t, src, dst, Options{})
	if err != nil || len(failed) > 0 {
		t.Fatalf("sync: %v, failed %q", err, failed)
	}
	exact(t, src, dst, compareOpts())
	t.Logf("files %+v", rep.Files)

	// A second run finds nothing to do.
	rep, _, err = syncTrees(t, src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files.Created+rep.Files.Updated+rep.Files.MetadataOnly+rep.Files.HardLinked != 0 {
		t.Errorf("second run changed entries: %+v", rep.Files)
	}
}

func TestCopyAfterEveryMutation(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	o := testtree.Small(22)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	if _, failed, err := syncTrees(t, src, dst, Options{Delete: true}); err != nil || len(failed) > 0 {
		t.Fatalf("first sync: %v, failed %q", err, failed)
	}
	for round := range 3 {
		muts, err := testtree.Mutate(src, testtree.MutateOptions{Seed: int64(round), Percent: 10, AppendSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		rep, failed, err := syncTrees(t, src, dst, Options{Delete: true})
		if err != nil || len(failed) > 0 {
			t.Fatalf("round %d: %v, failed %q", round, err, failed)
		}
		exact(t, src, dst, compareOpts())
		if t.Failed() {
			for _, m := range muts {
				t.Logf("mutation: %+v", m)
			}
			t.FailNow()
		}
		t.Logf("round %d: %d mutations; files %+v, deleted %d", round, len(muts), rep.Files, rep.Deleted.Total())
	}
}
