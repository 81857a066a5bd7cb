package partition

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

// walk runs a Walker of root with opt to the end and returns its chunks.
func walk(tb testing.TB, root string, opt Options) []Chunk {
	tb.Helper()
	chunks, err := tryWalk(context.Background(), root, opt)
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	return chunks
}

// tryWalk is walk returning Run's error.
func tryWalk(ctx context.Context, root string, opt Options) ([]Chunk, error) {
	w, err := NewWalker(root, opt)
	if err != nil {
		return nil, err
	}
	out := make(chan Chunk)
	var chunks []Chunk
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range out {
			chunks = append(chunks, c)
		}
	}()
	err = w.Run(ctx, out)
	<-done
	return chunks, err
}

// entries returns every entry of chunks, sorted by path.
func entries(chunks []Chunk) []Entry {
	var all []Entry
	for _, c := range chunks {
		all = append(all, c.Entries...)
	}
	slices.SortFunc(all, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return all
}

// build makes the tree o describes in a new temporary directory.
func build(tb testing.TB, o testtree.Options) string {
	tb.Helper()
	dir := testtree.TempDir(tb) // removable even with read-only directories
	if _, err := testtree.Plan(o).Build(dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// small returns the options of a Small tree without its 4 GiB sparse file,
// which some file systems can't hold.
func small(seed int64) testtree.Options {
	o := testtree.Small(seed)
	o.HugeSparse = false
	return o
}

var big struct {
	once sync.Once
	dir  string
	err  error
}

// bigTree returns a shared tree of 100k files (of 0-4 KiB, so it builds
// fast) in about 5,000 directories, built once per test binary; removed
// by TestMain.
func bigTree(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipped in -short: builds a tree of 100k files")
	}
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "partition-big-")
		if big.err != nil {
			return
		}
		o := testtree.Large(3, 100_000)
		o.MinSize, o.MaxSize = 0, 4<<10
		_, big.err = testtree.Plan(o).Build(big.dir)
	})
	if big.err != nil {
		tb.Fatal(big.err)
	}
	return big.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

// typeOf returns the testtree type of a st_mode.
func typeOf(mode uint32) testtree.Type {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return testtree.File
	case unix.S_IFDIR:
		return testtree.Dir
	case unix.S_IFLNK:
		return testtree.Symlink
	case unix.S_IFIFO:
		return testtree.Fifo
	case unix.S_IFSOCK:
		return testtree.Socket
	case unix.S_IFCHR:
		return testtree.CharDev
	case unix.S_IFBLK:
		return testtree.BlockDev
	}
	return 0
}
