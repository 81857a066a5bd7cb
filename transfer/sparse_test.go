package transfer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

// TestSparseKeepsOnlyItsExtents copies a 4 GiB file that holds 3 data
// extents of 1 MiB, and checks at the file system that the copy allocates
// no more than those extents (and a block of slack for each), and has the
// same content.
func TestSparseKeepsOnlyItsExtents(t *testing.T) {
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	const size, extent = 4 << 30, 1 << 20
	f, err := os.Create(filepath.Join(src, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, extent)
	for i := range data {
		data[i] = byte(i*31 + 7)
	}
	for _, off := range []int64{0, size / 2, size - extent} {
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(src, "huge"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 > 4*extent {
		t.Skipf("this file system doesn't keep holes: the source takes %d bytes", st.Blocks*512)
	}
	if _, failed, err := syncTrees(t, src, dst, Options{}); err != nil || len(failed) > 0 {
		t.Fatalf("sync: %v, failed %q", err, failed)
	}
	if err := unix.Stat(filepath.Join(dst, "huge"), &st); err != nil {
		t.Fatal(err)
	}
	if alloc := st.Blocks * 512; st.Size != size || alloc > 3*extent+3*st.Blksize*2 {
		t.Errorf("copy: size %d, %d bytes allocated; want %d and at most the 3 extents (%d)", st.Size, alloc, int64(size), 3*extent)
	}
	// The comparator hashes data extents only; rsync -c would read 8 GiB
	// of zeros.
	diffs, err := testtree.Compare(t.Context(), src, dst, compareOpts())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("comparator: %s", d)
	}
}
