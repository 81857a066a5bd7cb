package benchkit

import (
	"context"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

func TestStatWalkCountsEveryEntry(t *testing.T) {
	dir := testtree.TempDir(t)
	o := testtree.Small(2)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(dir); err != nil {
		t.Fatal(err)
	}
	s, err := testtree.Scan(context.Background(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len(s) - 1) // not the root
	for _, workers := range []int{1, 4, 16} {
		got, err := StatWalk(context.Background(), dir, workers)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%d workers: saw %d entries, want %d", workers, got, want)
		}
	}
}

func TestCmdPeakRSSIsTheChilds(t *testing.T) {
	// Hold 200 MiB here: a child's peak must not include it.
	ballast := make([]byte, 200<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	rss, err := Cmd(context.Background(), "sh", "-c", "sleep 0.1")
	if err != nil {
		t.Fatal(err)
	}
	if rss == 0 || rss > 50<<20 {
		t.Errorf("sleep's peak RSS = %d bytes; want a few MiB", rss)
	}
	_ = ballast[len(ballast)-1]
}
