package sys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadlinkAt reads back targets of every length around the buffer's
// growth steps, up to the longest path Linux takes.
func TestReadlinkAt(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, n := range []int{1, 255, 256, 257, 1023, 1024, 1025, 4095} {
		target := strings.Repeat("x", n)
		name := filepath.Join(dir, "l")
		os.Remove(name)
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
		got, err := ReadlinkAt(fd, "l")
		if err != nil || got != target {
			t.Errorf("target of %d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	if _, err := ReadlinkAt(fd, "missing"); err == nil {
		t.Error("no error for a missing link")
	}
}
