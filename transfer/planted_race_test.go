package transfer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
)

// TestPlantedSymlinkRace: a symlink planted where the source has a
// directory of many batches is met by several workers at once. One of
// them, its stat of the symlink held (latencyfs), goes on to remove it
// after another has replaced it with the directory and copied into it:
// it must leave that directory alone, and nothing fails.
func TestPlantedSymlinkRace(t *testing.T) {
	backing, m := efsMount(t, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "getattr", Path: "dst/d", Delay: 300 * time.Millisecond, Times: 1}}})
	src := filepath.Join(backing, "src")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 4 * BatchSize {
		if err := os.WriteFile(filepath.Join(src, "d", fmt.Sprintf("f%04d", i)), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(backing, "dst"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../src", filepath.Join(backing, "dst", "d")); err != nil {
		t.Fatal(err)
	}
	_, failed, err := syncTrees(t, src, m.Dir()+"/dst", Options{Workers: 4})
	if err != nil || len(failed) > 0 {
		t.Fatalf("sync: %v, failed %q", err, failed)
	}
	exact(t, src, filepath.Join(backing, "dst"), compareOpts())
}
