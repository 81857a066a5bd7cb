package transfer

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// hugeOpts copies files of 8 MiB and more in 1 MiB pieces, 4 at once.
func hugeOpts() Options {
	return Options{ContentOptions: ContentOptions{HugeMin: 8 << 20, HugePiece: 1 << 20, HugeWorkers: 4}}
}

// writeExtents makes a file of size bytes under dir that holds data only at
// offs, 1 MiB at each (and the rest holes where the file system keeps them).
func writeExtents(t *testing.T, name string, size int64, offs ...int64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*31 + 7)
	}
	for _, off := range offs {
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHugeCopy(t *testing.T) {
	const size = 16 << 20
	tests := []struct {
		name      string
		src, dst  []testtree.Entry
		holesAt   []int64 // if set, src/sparse gets 1 MiB of data at each
		wantAlloc int64   // at most this many bytes allocated for sparse
	}{
		{name: "new", src: []testtree.Entry{faultDir("."), faultFile("big", size, 1), faultFile("small", 4<<10, 2)}},
		{name: "update", src: []testtree.Entry{faultDir("."), faultFile("big", size+12345, 3)},
			dst: []testtree.Entry{faultFile("big", size, 4)}},
		{name: "sparse", src: []testtree.Entry{faultDir(".")}, holesAt: []int64{0, 5<<20 + 512<<10, size - 1<<20}, wantAlloc: 3 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := testtree.TempDir(t), testtree.TempDir(t)
			buildTree(t, src, tt.src...)
			if len(tt.dst) > 0 {
				buildTree(t, dst, tt.dst...)
			}
			if tt.holesAt != nil {
				writeExtents(t, filepath.Join(src, "sparse"), size, tt.holesAt...)
			}
			if _, failed, err := syncTrees(t, src, dst, hugeOpts()); err != nil || len(failed) > 0 {
				t.Fatalf("sync: %v, failed %q", err, failed)
			}
			exact(t, src, dst, compareOpts())
			if tt.wantAlloc > 0 {
				var s, d unix.Stat_t
				if err := unix.Stat(filepath.Join(src, "sparse"), &s); err != nil {
					t.Fatal(err)
				}
				if err := unix.Stat(filepath.Join(dst, "sparse"), &d); err != nil {
					t.Fatal(err)
				}
				if s.Blocks*512 <= tt.wantAlloc && d.Blocks*512 > tt.wantAlloc+6*int64(d.Blksize) {
					t.Errorf("copy allocates %d bytes; want about %d", d.Blocks*512, tt.wantAlloc)
				}
			}
			if left := tempFiles(t, dst); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

// TestHugeCopyHashes: with Hash, a file copied in pieces, several at
// once, is reported with the xxh3-128 of its whole content, holes as
// zeros, as a file copied in one stream is.
func TestHugeCopyHashes(t *testing.T) {
	const size = 16 << 20
	src, dst := testtree.TempDir(t), testtree.TempDir(t)
	buildTree(t, src, faultDir("."), faultFile("big", size+12345, 6), faultFile("small", 4<<10, 7))
	writeExtents(t, filepath.Join(src, "sparse"), size, 0, 5<<20+512<<10, size-1<<20)
	writeExtents(t, filepath.Join(src, "holes-only"), size)
	got := hashesReported(t, src, dst, hugeOpts())
	for _, name := range []string{"big", "small", "sparse", "holes-only"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if sum, ok := got[name]; !ok || sum != xxh3.Hash128(b).Bytes() {
			t.Errorf("%s: hashed %v, sum %x; want the xxh3-128 of its %d bytes", name, ok, sum, len(b))
		}
	}
}

// hashesReported syncs src to dst with Hash and returns the sums OnDone
// reported, by path.
func hashesReported(t *testing.T, src, dst string, opt Options) map[string][16]byte {
	t.Helper()
	var mu sync.Mutex
	got := map[string][16]byte{}
	opt.Hash, opt.OnDone = true, func(d Done) {
		if d.Hashed {
			mu.Lock()
			defer mu.Unlock()
			got[d.Entry.Path] = d.Sum
		}
	}
	if _, failed, err := syncTrees(t, src, dst, opt); err != nil || len(failed) > 0 {
		t.Fatalf("sync: %v, failed %q", err, failed)
	}
	return got
}

// partialMap is a Partial in memory.
type partialMap struct {
	mu sync.Mutex
	m  map[string]PartialCopy
}

func (p *partialMap) Load(rel string) (PartialCopy, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.m[rel]
	return c, ok
}

func (p *partialMap) Save(rel string, c PartialCopy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]PartialCopy{}
	}
	p.m[rel] = c
}

func (p *partialMap) Drop(rel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, rel)
}

// TestHugeResume cancels a huge copy, slowed down by latencyfs, after about
// half of the file is written. With a Partial the temporary file stays,
// and the next run writes less than 60% of the file, at the file system,
// and leaves an exact copy and no temporary file. The same holds for a
// file changed since the link-dest reference, as in every backup but the
// first: its copy is a huge one too (it was copied in one stream).
func TestHugeResume(t *testing.T) {
	for _, linkDest := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "link-dest"}[linkDest], func(t *testing.T) { testHugeResume(t, linkDest) })
	}
}

func testHugeResume(t *testing.T, linkDest bool) {
	const size = 16 << 20
	backing, m := efsMount(t, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/*", Delay: 20 * time.Millisecond},
	}})
	src, dst := testtree.TempDir(t), filepath.Join(backing, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	buildTree(t, src, faultDir("."), faultFile("big", size, 5))
	opt := hugeOpts()
	opt.HugeWorkers, opt.HugePiece = 2, 512<<10
	if linkDest { // on the destination's file system, as links need
		if err := os.Mkdir(filepath.Join(backing, "ref"), 0o755); err != nil {
			t.Fatal(err)
		}
		buildTree(t, filepath.Join(backing, "ref"), faultDir("."), faultFile("big", size-4096, 8)) // older content
		opt.LinkDest = []string{filepath.Join(m.Dir(), "ref")}
	}
	rec := &partialMap{}
	opt.Partial = rec
	var sums sync.Map // with Hash, the resumed copy's sum covers the pieces of both runs
	opt.Hash, opt.OnDone = true, func(d Done) {
		if d.Hashed {
			sums.Store(d.Entry.Path, d.Sum)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := syncCtx(ctx, src, filepath.Join(m.Dir(), "dst"), opt)
		done <- err
	}()
	waitWritten(t, m, size/2, done)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the run finished before the cancel")
	}
	left := tempFiles(t, backing)
	p, ok := rec.Load("big")
	if len(left) != 1 || !ok || filepath.Base(left[0]) != p.Temp {
		t.Fatalf("after the cancel: temporary files %q, record %+v (%v)", left, p, ok)
	}
	t.Logf("cancelled with %d of %d pieces done", len(p.Done), size/opt.HugePiece)

	if err := m.SetFaults(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, failed, err := syncCtx(context.Background(), src, filepath.Join(m.Dir(), "dst"), opt); err != nil || len(failed) > 0 {
		t.Fatalf("resume: %v, failed %q", err, failed)
	}
	n, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the resumed run wrote %d of %d bytes", n.BytesWritten, size)
	if n.BytesWritten >= size*6/10 {
		t.Errorf("the resumed run wrote %d bytes; want less than 60%% of %d", n.BytesWritten, size)
	}
	exact(t, src, dst, compareOpts())
	if b, err := os.ReadFile(filepath.Join(src, "big")); err != nil {
		t.Fatal(err)
	} else if sum, ok := sums.Load("big"); !ok || sum != xxh3.Hash128(b).Bytes() {
		t.Errorf("the resumed copy of big: sum %x (%v), want the xxh3-128 of its content", sum, ok)
	}
	if left := tempFiles(t, backing); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	if _, ok := rec.Load("big"); ok {
		t.Errorf("the record of big is still there")
	}
}

// waitWritten waits until m has written n bytes. It fails t if the run
// ends first (done) or that takes over 30 s.
func waitWritten(t *testing.T, m *latencyfs.Mount, n int64, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := m.Counts()
		if err != nil {
			t.Fatal(err)
		}
		if c.BytesWritten >= n {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the run ended (%v) before %d bytes were written", err, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("%d bytes not written in 30 s", n)
}

// TestHugeCancelRemovesTemp cancels a huge copy without a Partial: its
// temporary file is removed, as a whole-file copy's is.
func TestHugeCancelRemovesTemp(t *testing.T) {
	const size = 16 << 20
	backing, m := efsMount(t, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/*", Delay: 20 * time.Millisecond},
	}})
	src, dst := testtree.TempDir(t), filepath.Join(backing, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	buildTree(t, src, faultDir("."), faultFile("big", size, 6))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := syncCtx(ctx, src, filepath.Join(m.Dir(), "dst"), hugeOpts())
		done <- err
	}()
	waitWritten(t, m, size/2, done)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the run finished before the cancel")
	}
	if left := tempFiles(t, backing); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestHugeStaleRecord gives the copier a Partial record that doesn't fit:
// the copy starts again, exact, and leaves no temporary file or record.
func TestHugeStaleRecord(t *testing.T) {
	const size = 16 << 20
	tests := []struct {
		name  string
		temp  bool // the recorded temporary file exists, full of junk
		stale func(p *PartialCopy)
	}{
		{name: "source changed", temp: true, stale: func(p *PartialCopy) { p.Mtime++ }},
		{name: "other piece size", temp: true, stale: func(p *PartialCopy) { p.Piece *= 2 }},
		{name: "temp gone", stale: func(p *PartialCopy) {}},
		{name: "not a temp name", stale: func(p *PartialCopy) { p.Temp = "../big" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := testtree.TempDir(t), testtree.TempDir(t)
			buildTree(t, src, faultDir("."), faultFile("big", size, 7))
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(src, "big"), &st); err != nil {
				t.Fatal(err)
			}
			opt := hugeOpts()
			p := PartialCopy{Temp: tempName(), Size: size, Mtime: st.Mtim.Nano(), Piece: opt.HugePiece}
			for off := int64(0); off < size; off += p.Piece {
				p.Done = append(p.Done, off)
			}
			if tt.temp {
				buildTree(t, dst, faultFile(p.Temp, size, 8))
			}
			tt.stale(&p)
			rec := &partialMap{}
			rec.Save("big", p)
			opt.Partial = rec
			if _, failed, err := syncTrees(t, src, dst, opt); err != nil || len(failed) > 0 {
				t.Fatalf("sync: %v, failed %q", err, failed)
			}
			exact(t, src, dst, compareOpts())
			if left := tempFiles(t, dst); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
			if _, ok := rec.Load("big"); ok {
				t.Errorf("the record of big is still there")
			}
		})
	}
}
