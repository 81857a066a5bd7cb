package transfer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
)

// holdFirst is a Reporter whose first StartFile waits until release is
// closed, and says on started that it began.
type holdFirst struct {
	*kpi.Counters
	once             sync.Once
	started, release chan struct{}
}

func (h *holdFirst) StartFile(rel string, size int64) *kpi.File {
	h.once.Do(func() { close(h.started); <-h.release })
	return h.Counters.StartFile(rel, size)
}

// TestStopStartsNoNewChunk stops a copier while its one worker is inside
// the first of three chunks: that chunk is finished and reported, the two
// it holds but never began are dropped, and Run returns nil.
func TestStopStartsNoNewChunk(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	in := make(chan partition.Chunk, 3)
	for id := range 3 {
		var ch partition.Chunk
		ch.ID = id
		for i := range 3 {
			rel := fmt.Sprintf("c%d-f%d", id, i)
			if err := os.WriteFile(filepath.Join(src, rel), []byte(rel), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _, err := partition.Restat(src, []string{rel}, false)
			if err != nil {
				t.Fatal(err)
			}
			ch.Entries = append(ch.Entries, got...)
		}
		in <- ch
	}
	close(in)
	h := &holdFirst{Counters: kpi.New(kpi.Options{}), started: make(chan struct{}), release: make(chan struct{})}
	c, err := New(context.Background(), src, dst, Options{Workers: 1, Reporter: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make(chan Result, 3)
	errc := make(chan error, 1)
	go func() { errc <- c.Run(context.Background(), in, out) }()
	<-h.started
	c.Stop()
	close(h.release)
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil after a stop", err)
	}
	close(out)
	var ids []int
	for r := range out {
		ids = append(ids, r.Chunk)
	}
	if len(ids) != 1 || ids[0] != 0 {
		t.Errorf("results for chunks %v, want only 0", ids)
	}
	for id := range 3 {
		for i := range 3 {
			_, err := os.Lstat(filepath.Join(dst, fmt.Sprintf("c%d-f%d", id, i)))
			if copied := err == nil; copied != (id == 0) || (err != nil && !errors.Is(err, os.ErrNotExist)) {
				t.Errorf("chunk %d file %d: copied %v (%v)", id, i, copied, err)
			}
		}
	}
}
