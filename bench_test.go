package efsync_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/partition"
)

// Benchmarks compare efsync with rsync and fpsync in the same run and
// report ratios (x-vs-TOOL above 1: efsync is faster). Run them with
//
//	go test -run '^$' -bench . -benchtime 3x -timeout 2h .
//
// (BenchmarkSync at full size needs far more than the default 10m), or see the
// sync comparison as a table with go run ./internal/benchcmp.
//
// EFSYNC_BENCH_FILES sets the size of the local tree (default 100,000 as in
// BENCHMARKS.md); trees behind latencyfs are 5,000 files (BenchmarkSync:
// fewer when EFSYNC_BENCH_FILES asks for fewer, as a smoke test does).

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

// BenchmarkPartition races partition.Walker against fpart -L -f 2000 -zz
// crawling EFSYNC_BENCH_FILES files (default 100,000): on local disk, and
// through latencyfs at 1 ms per call (tree built in the backing directory,
// kernel caches waited out before each run). x-vs-fpart above 1 means the
// walker is faster; x16-vs-1 is how much 16 walkers beat 1.
func BenchmarkPartition(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		root := benchkit.Tree(b, testtree.Large(1, benchFiles(b, 100_000)))
		partitionRace(b, root, nil, []int{16})
	})
	b.Run("latency-1ms", func(b *testing.B) {
		backing := testtree.TempDir(b)
		if _, err := testtree.Plan(testtree.Large(1, benchFiles(b, 100_000))).Build(backing); err != nil {
			b.Fatal(err)
		}
		m := latencyfs.Start(b, backing, latencyfs.Options{Delay: time.Millisecond, AttrTTL: time.Second, EntryTTL: time.Second})
		partitionRace(b, m.Dir(), m, []int{32, 16, 1})
	})
}

// partitionRace times a Walker with each count of walkers, then fpart, in
// turn, and reports against the first count.
func partitionRace(b *testing.B, root string, m *latencyfs.Mount, walkers []int) {
	fpart := benchkit.Tools(b, "fpart")[0]
	ctx := context.Background()
	r := benchkit.NewRace(b)
	name := func(n int) string { return "partition-" + strconv.Itoa(n) }
	for b.Loop() {
		for _, n := range walkers {
			if m != nil {
				m.WaitCache()
			}
			r.Time(name(n), func() error { _, err := crawlTree(ctx, root, partition.Options{Walkers: n}); return err })
		}
		if m != nil {
			m.WaitCache()
		}
		r.Time("fpart", func() error {
			rss, err := benchkit.Cmd(ctx, fpart, "-L", "-f", "2000", "-zz", root)
			r.RSS("fpart", rss)
			return err
		})
	}
	r.Report(name(walkers[0]))
	if len(walkers) == 3 {
		b.ReportMetric(float64(r.Median(name(1)))/float64(r.Median(name(16))), "x16-vs-1")
	}
}

// crawlTree runs a Walker of root to the end, dropping its chunks, and
// returns how many entries it listed.
func crawlTree(ctx context.Context, root string, opt partition.Options) (int, error) {
	w, err := partition.NewWalker(root, opt)
	if err != nil {
		return 0, err
	}
	out := make(chan partition.Chunk) // as a copier takes them: one at a time
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, out) }()
	n := 0
	for c := range out {
		n += c.Files
	}
	return n, <-errc
}

// BenchmarkPartitionMemory compares the peak heap of a live-mode crawl of
// 1M entries with that of 100k (peak-ratio; the goal is at most 1.2). It
// builds trees of empty files, 1M of them, so it runs only when asked:
//
//	EFSYNC_BENCH_MEMORY=1 go test -run '^$' -bench PartitionMemory -benchtime 3x -timeout 1h .
func BenchmarkPartitionMemory(b *testing.B) {
	if os.Getenv("EFSYNC_BENCH_MEMORY") != "1" {
		b.Skip("set EFSYNC_BENCH_MEMORY=1: builds a tree of 1M files")
	}
	var peaks, lives [2][]float64
	var roots [2]string
	for i, files := range []int{100_000, 1_000_000} {
		o := testtree.Large(1, files)
		o.MinSize, o.MaxSize = 0, 0 // sizes don't matter here; disk space does
		roots[i] = benchkit.Tree(b, o)
	}
	for b.Loop() {
		for i, root := range roots {
			peak, live, err := peakHeap(func() error { _, err := crawlTree(context.Background(), root, partition.Options{}); return err })
			if err != nil {
				b.Fatal(err)
			}
			peaks[i], lives[i] = append(peaks[i], peak), append(lives[i], live)
		}
	}
	lo, hi := medianFloat(peaks[0]), medianFloat(peaks[1])
	b.ReportMetric(lo/(1<<20), "MiB-peak-100k")
	b.ReportMetric(hi/(1<<20), "MiB-peak-1M")
	b.ReportMetric(hi/lo, "peak-ratio")
	b.ReportMetric(medianFloat(lives[1])/medianFloat(lives[0]), "live-ratio")
	b.Logf("peak heap of each run, bytes: 100k %.3g, 1M %.3g", peaks[0], peaks[1])
}

// peakHeap runs f after a GC and returns the most heap (live and not yet
// collected objects) seen while it ran, sampled every millisecond, and the
// most heap that a GC found live.
func peakHeap(f func() error) (peak, live float64, err error) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	done := make(chan struct{})
	var maxHeap, maxLive uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			maxHeap = max(maxHeap, s[0].Value.Uint64())
			maxLive = max(maxLive, s[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	err = f()
	close(done)
	wg.Wait()
	return float64(maxHeap), float64(maxLive), err
}

// medianFloat returns the median of v.
func medianFloat(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkSync races the agent's sync (efsync, run as a child process)
// against `rsync -aH --delete` and `fpsync -n 8 -E`, run by run, on three
// cases (see benchkit.SyncSetting): a full copy into an empty directory;
// no change, where the floor (a 32-way stat walk of both trees) races
// too; and 1% of the entries changed plus 4 MiB appended to 2 big files.
// After every efsync run its copy is checked, untimed, by the comparator
// and by rsync. Settings: local disk with EFSYNC_BENCH_FILES files
// (default 100,000), and behind latencyfs at 1 ms per metadata call with
// 5,000; "mounted" runs on real file systems when EFSYNC_BENCH_DST is set
// (see syncMounted). The table of medians:
//
//	go run ./internal/benchcmp
func BenchmarkSync(b *testing.B) {
	tools := benchkit.NewSyncTools(b) // builds the agent, once
	b.Run("local", func(b *testing.B) {
		base := testtree.TempDir(b)
		buildTree(b, base+"/src", syncTree(benchFiles(b, 100_000)))
		s := &benchkit.SyncSetting{Tools: tools, Src: base + "/src", SrcDisk: base + "/src", View: base, Disk: base}
		s.Run(b)
	})
	b.Run("latency-1ms", func(b *testing.B) {
		o := testtree.Large(1, min(5_000, benchFiles(b, 100_000))) // a smoke test's small tree shrinks it too
		o.BigFiles, o.BigMin, o.BigMax = 2, 2<<20, 8<<20           // for the appends; near the baseline's 39 MiB
		backing := testtree.TempDir(b)
		buildTree(b, backing+"/src", o) // in the backing directory: no latency paid building it
		// NoXattrs: like EFS, which has no xattrs (nor do the changes made
		// to this tree, so that the backing trees compare equal).
		m := latencyfs.Start(b, backing, latencyfs.Options{Delay: time.Millisecond, AttrTTL: time.Second,
			EntryTTL: time.Second, NoXattrs: true})
		s := &benchkit.SyncSetting{Tools: tools, Src: m.Dir() + "/src", SrcDisk: backing + "/src", View: m.Dir(),
			Disk: backing, Wait: m.WaitCache, FpsyncFiles: 250, EfsyncN8: true, NoXattrs: true}
		s.Run(b)
	})
	b.Run("mounted", func(b *testing.B) { syncMounted(b, tools) })
}

// syncTree returns the local setting's tree: BENCHMARKS.md's, scaled to
// files small files, with its 20 big files at 100k (2 at least: the
// changed case appends to 2).
func syncTree(files int) testtree.Options {
	o := testtree.Large(1, files)
	o.BigFiles = max(2, files/5_000)
	return o
}

// syncMounted races on real mounted file systems (EFS, NFS), only when
// EFSYNC_BENCH_DST names a directory there: scratch trees go under it.
// EFSYNC_BENCH_SRC, if set, is the source, only ever read (the changed
// case mutates a copy under DST); otherwise the local setting's tree is
// built under DST. The NFS client's caches are not dropped between runs.
func syncMounted(b *testing.B, tools *benchkit.SyncTools) {
	dst := os.Getenv("EFSYNC_BENCH_DST")
	if dst == "" {
		b.Skip("set EFSYNC_BENCH_DST (and EFSYNC_BENCH_SRC) to race on mounted file systems")
	}
	base, err := os.MkdirTemp(dst, "efsync-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { testtree.MakeWritable(base); os.RemoveAll(base) })
	src := os.Getenv("EFSYNC_BENCH_SRC")
	if src == "" {
		src = base + "/src"
		buildTree(b, src, syncTree(benchFiles(b, 100_000)))
	}
	s := &benchkit.SyncSetting{Tools: tools, Src: src, SrcDisk: src, View: base, Disk: base,
		Compare: testtree.CompareOptions{AllocSlack: -1}} // two file systems may allocate differently
	s.Run(b)
}

// buildTree builds the tree o describes in the new directory dir.
func buildTree(b *testing.B, dir string, o testtree.Options) {
	b.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if _, err := testtree.Plan(o).Build(dir); err != nil {
		b.Fatal(err)
	}
}
