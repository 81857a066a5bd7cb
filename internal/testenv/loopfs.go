package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// LoopFS returns the root of a new, empty file system of type fstype
// ("xfs" or "btrfs": those with reflinks) made in a sparse image of size
// bytes under tb.TempDir() and mounted on a loop device; tb's cleanup
// unmounts it, which frees the device. XFS wants at least 300 MiB.
//
// It needs root to mount: without, it skips, as NeedRoot does. A missing
// mkfs.<fstype>, or a machine without loop devices, is a missing tool:
// a skip, or a failure under EFSYNC_REQUIRE_TOOLS=1.
func LoopFS(tb testing.TB, fstype string, size int64) string {
	tb.Helper()
	if !Root() {
		tb.Skipf("skipped: needs root to mount a %s loop image", fstype)
	}
	mkfs := Tool(tb, "mkfs."+fstype)
	mount := Tool(tb, "mount")
	base := tb.TempDir()
	img, dir := filepath.Join(base, fstype+".img"), filepath.Join(base, "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(img)
	if err == nil {
		err = f.Truncate(size)
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	args := []string{"-q", "-f", img}
	if fstype == "xfs" {
		args = append([]string{"-m", "reflink=1"}, args...)
	}
	if out, err := exec.Command(mkfs, args...).CombinedOutput(); err != nil {
		tb.Fatalf("mkfs.%s: %v\n%s", fstype, err, out)
	}
	out, err := exec.Command(mount, "-o", "loop", img, dir).CombinedOutput()
	Need(tb, err == nil, "cannot mount a loop image: "+strings.TrimSpace(string(out)))
	// Registered after tb.TempDir's removal, so it runs before it.
	tb.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			tb.Errorf("unmount %s: %v (a file left open?); detaching it", dir, err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// FreeBytes returns the bytes free in the file system holding path, after
// flushing it, so that delayed allocations are counted.
func FreeBytes(tb testing.TB, path string) int64 {
	tb.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		tb.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		tb.Fatal(err)
	}
	return int64(st.Bfree) * st.Bsize
}
