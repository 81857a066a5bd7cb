package transfer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// TestCancelDuringWrite cancels a run while latencyfs slows the writes of a
// big file down: its temporary file is there, half full. The run stops
// promptly with context.Canceled, removes the temporary file, and leaves
// every destination file whole, old or new.
func TestCancelDuringWrite(t *testing.T) {
	const size = 16 << 20
	// Each write request waits; the copier writes 1 MiB at a time, which
	// the kernel sends as 128 KiB requests (go-fuse's max_write), so one
	// write(2) takes 8 × 250 ms and the file over 30 s.
	backing, m := efsMount(t, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/slow/*", Delay: 250 * time.Millisecond},
	}})
	src, dst := testtree.TempDir(t), filepath.Join(backing, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	buildTree(t, src, faultDir("."), faultDir("a"), faultDir("slow"),
		faultFile("a/x", 16<<10, 1), faultFile("a/y", 1<<20, 2), faultFile("slow/big", size, 3))
	buildTree(t, dst, faultDir("a"), faultDir("slow"), faultFile("a/x", 1<<10, 11), faultFile("slow/big", 3<<20, 13))
	old, newer := hashTree(t, dst), hashTree(t, src)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		_, _, err := syncCtx(ctx, src, filepath.Join(m.Dir(), "dst"), Options{})
		done <- result{err, time.Now()}
	}()

	tmp, n := waitTemp(t, filepath.Join(dst, "slow"), done)
	if n >= size {
		t.Fatalf("%s is full before the cancel: the writes were not slowed down", tmp)
	}
	t.Logf("cancelling with %s at %d of %d bytes", filepath.Base(tmp), n, size)
	cancel()
	cancelled := time.Now()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the run did not stop within a minute of the cancel")
	}
	if took := r.at.Sub(cancelled); took > 5*time.Second {
		t.Errorf("the run stopped %v after the cancel; want about a second", took)
	} else {
		t.Logf("stopped %v after the cancel", took)
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("sync returned %v, want context.Canceled", r.err)
	}
	if left := tempFiles(t, backing); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	after := hashTree(t, dst)
	if fresh := oldOrNew(t, after, old, newer); fresh["slow/big"] || after["slow/big"] == nil {
		t.Errorf("slow/big should still be the old file")
	}
}

// waitTemp waits until a temporary file with some data, but not all of
// it, is in dir, and returns its path and size. It fails t if the run
// ends first (done) or none appears in 30 s.
func waitTemp[R any](t *testing.T, dir string, done <-chan R) (string, int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("the run ended before a temporary file was written to: %+v", r)
		default:
		}
		names, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, d := range names {
			if !IsTemp(d.Name()) {
				continue
			}
			if fi, err := d.Info(); err == nil && fi.Size() > 0 {
				return filepath.Join(dir, d.Name()), fi.Size()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no temporary file got data in 30 s")
	return "", 0
}
