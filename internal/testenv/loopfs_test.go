package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLoopFS mounts an XFS image and reflinks a file in it with cp, then
// checks that the clone took no new blocks: the helper gives what the
// reflink tests need.
func TestLoopFS(t *testing.T) {
	dir := LoopFS(t, "xfs", 512<<20)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	data := make([]byte, 32<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	if err := os.WriteFile(a, data, 0o644); err != nil {
		t.Fatal(err)
	}
	free := FreeBytes(t, dir)
	if out, err := exec.Command("cp", "--reflink=always", a, b).CombinedOutput(); err != nil {
		t.Fatalf("cp --reflink=always: %v\n%s", err, out)
	}
	used := free - FreeBytes(t, dir)
	t.Logf("a 32 MiB reflink used %d bytes", used)
	if used > 1<<20 {
		t.Errorf("a 32 MiB reflink used %d bytes, want next to none", used)
	}
}
