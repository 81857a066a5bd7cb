package manifest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/xxh3"
)

// BenchmarkWriter writes manifests of 100k and 1M files added in a
// scrambled order, and reports the output's size per record and the peak
// live heap: with the default MaxRecords, the peak must not grow with the
// number of records.
func BenchmarkWriter(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("n=%d/level=%d", n, level), func(b *testing.B) {
				benchWriter(b, n, Options{Level: level})
			})
		}
	}
}

func benchWriter(b *testing.B, n int, opt Options) {
	dir := b.TempDir()
	name := filepath.Join(dir, "manifest")
	var size int64
	var peak uint64
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		stop := sampleHeap(&peak)
		writeScrambled(b, name, n, opt)
		stop()
		fi, err := os.Stat(name)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	b.StopTimer()
	b.ReportMetric(float64(size)/float64(n), "B/record")
	b.ReportMetric(float64(size)/1e6, "file-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-live-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// writeScrambled adds n records in the order i*p mod n, p prime to n, so
// that the order is far from sorted and costs no memory to hold.
func writeScrambled(b *testing.B, name string, n int, opt Options) {
	w, err := Create(name, opt)
	if err != nil {
		b.Fatal(err)
	}
	const p = 1_000_003
	for i := range n {
		j := i * p % n
		path := fmt.Sprintf("home/user%03d/project%02d/src/file%07d.go", j%500, j%37, j)
		err := w.Add(Record{
			Path: path, Type: TypeFile, Mode: 0o644, UID: uint32(1000 + j%500), GID: 1000,
			Size: int64(j % 100_000), Mtime: 1_700_000_000_000_000_000 + int64(j)*1_000_003_917,
			Hash: xxh3.HashString128(path).Bytes(), HasHash: true,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// sampleHeap records in *peak the highest live heap (as of the last GC)
// seen every millisecond, until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// BenchmarkReader reads a manifest of 1M files, as a full verify does.
func BenchmarkReader(b *testing.B) {
	const n = 1_000_000
	name := filepath.Join(b.TempDir(), "manifest")
	writeScrambled(b, name, n, Options{})
	b.ResetTimer()
	for range b.N {
		r, err := Open(name)
		if err != nil {
			b.Fatal(err)
		}
		recs := 0
		for ; ; recs++ {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
		r.Close()
		if recs != n {
			b.Fatalf("read %d records, want %d", recs, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
