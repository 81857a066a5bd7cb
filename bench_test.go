package efsync_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// Benchmarks compare efsync with rsync and fpsync in the same run and
// report ratios (x-vs-TOOL above 1: efsync is faster). Run them with
//
//	go test -run '^$' -bench . -benchtime 3x .
//
// EFSYNC_BENCH_FILES sets the size of the local tree (default 100,000 as in
// BENCHMARKS.md); trees behind latencyfs are 5,000 files.

// benchFiles returns EFSYNC_BENCH_FILES, or def.
func benchFiles(b *testing.B, def int) int {
	if s := os.Getenv("EFSYNC_BENCH_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("EFSYNC_BENCH_FILES=%q: want a positive number", s)
		}
		return n
	}
	return def
}

// mirror makes base/src, a tree of files files, and base/dst, an exact
// copy of it made by rsync (untimed).
func mirror(b *testing.B, base string, files int) {
	b.Helper()
	rsync := benchkit.Tools(b, "rsync")[0]
	if err := os.Mkdir(base+"/src", 0o755); err != nil {
		b.Fatal(err)
	}
	if _, err := testtree.Plan(testtree.Large(1, files)).Build(base + "/src"); err != nil {
		b.Fatal(err)
	}
	if _, err := benchkit.Cmd(b.Context(), rsync, "-aHAX", "--numeric-ids", base+"/src/", base+"/dst/"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFloorNoChange measures what a sync of two equal trees is held to:
// a parallel fstatat walk of both trees, against rsync and find doing the
// same job. Later benchmarks hold efsync.Sync to this floor.
func BenchmarkFloorNoChange(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		base := testtree.TempDir(b)
		mirror(b, base, benchFiles(b, 100_000))
		floorRace(b, base+"/src", base+"/dst", nil)
	})
	b.Run("latency-1ms", func(b *testing.B) {
		backing := testtree.TempDir(b)
		mirror(b, backing, 5_000)
		m := latencyfs.Start(b, backing, latencyfs.Options{Delay: time.Millisecond, AttrTTL: time.Second, EntryTTL: time.Second})
		floorRace(b, m.Dir()+"/src", m.Dir()+"/dst", m)
	})
}

func floorRace(b *testing.B, src, dst string, m *latencyfs.Mount) {
	tools := benchkit.Tools(b, "rsync", "find")
	ctx := context.Background()
	walk := func(workers int) func() error {
		return func() error {
			for _, d := range []string{src, dst} {
				if _, err := benchkit.StatWalk(ctx, d, workers); err != nil {
					return err
				}
			}
			return nil
		}
	}
	r := benchkit.NewRace(b)
	cmd := func(name string, args ...string) func() error {
		return func() error {
			rss, err := benchkit.Cmd(ctx, name, args...)
			r.RSS(filepath.Base(name), rss)
			return err
		}
	}
	contenders := []struct {
		name string
		f    func() error
	}{
		{"statwalk-32", walk(32)},
		{"statwalk-8", walk(8)},
		{"statwalk-1", walk(1)},
		{"rsync", cmd(tools[0], "-aH", "--delete", src+"/", dst+"/")},
		{"find", cmd(tools[1], src, dst, "-printf", "%s %T@ %m\n")},
	}
	for b.Loop() {
		for _, c := range contenders { // interleaved, so drift hits all alike
			if m != nil {
				m.WaitCache()
			}
			r.Time(c.name, c.f)
		}
	}
	r.Report("statwalk-32")
}
