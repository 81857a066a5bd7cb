package latencyfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestParallelWrites checks that with Options.ParallelWrites the writes of
// several goroutines to one file reach the file system at once, one call
// per 1 MiB, as an NFS client sends them; and that without it FUSE
// serialises them into 128 KiB calls, which is why the option exists.
func TestParallelWrites(t *testing.T) {
	const (
		writers = 8
		size    = 1 << 20 // per writer
		delay   = 30 * time.Millisecond
	)
	for _, tc := range []struct {
		name     string
		parallel bool
		presize  bool // ftruncate the file to its final size first
		// want
		minInFlight, maxInFlight int64
		calls                    int64 // write calls
		maxTime                  time.Duration
	}{
		// 64 calls of 128 KiB, one at a time.
		{name: "default", minInFlight: 1, maxInFlight: 1, calls: writers * 8},
		// The writers start at once; -race and a busy machine may
		// keep one or two from overlapping the others.
		// Writes past the end of the file take the inode lock (see
		// ParallelWrites): how many overlap depends on their order.
		{name: "parallel-extending", parallel: true, minInFlight: 1, maxInFlight: writers, calls: writers},
		{name: "parallel", parallel: true, presize: true, minInFlight: writers / 2, maxInFlight: writers, calls: writers, maxTime: 4 * delay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backing := t.TempDir()
			m := Start(t, backing, Options{DataDelay: delay, ParallelWrites: tc.parallel})
			want := randomBytes(writers * size)
			f, err := os.OpenFile(filepath.Join(m.Dir(), "f"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			must(t, err)
			defer f.Close()
			if tc.presize {
				must(t, f.Truncate(int64(len(want))))
			}
			must(t, m.Reset())

			start := time.Now()
			must(t, pwriteAll(f, want, size))
			took := time.Since(start)
			must(t, f.Close())

			c, err := m.Counts()
			must(t, err)
			t.Logf("%v for %d writers; %d write calls, %d at most at once", took.Round(time.Millisecond), writers, c.Ops["write"], c.MaxWritesInFlight)
			if c.MaxWritesInFlight < tc.minInFlight || c.MaxWritesInFlight > tc.maxInFlight {
				t.Errorf("at most %d writes at once, want %d to %d", c.MaxWritesInFlight, tc.minInFlight, tc.maxInFlight)
			}
			if c.Ops["write"] != tc.calls || c.BytesWritten != int64(len(want)) {
				t.Errorf("%d write calls, %d bytes; want %d and %d", c.Ops["write"], c.BytesWritten, tc.calls, len(want))
			}
			if minTime := time.Duration(tc.calls/tc.maxInFlight) * delay; took < minTime {
				t.Errorf("took %v, want >= %v: the delay was not waited", took, minTime)
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("took %v, want <= %v", took, tc.maxTime)
			}
			got, err := os.ReadFile(filepath.Join(backing, "f"))
			must(t, err)
			if !bytes.Equal(got, want) {
				t.Errorf("the file differs from what was written (%d bytes, want %d)", len(got), len(want))
			}
		})
	}
}

// pwriteAll writes data to f with one goroutine per piece of size bytes,
// each with one pwrite at its offset, all started at once.
func pwriteAll(f *os.File, data []byte, size int) error {
	fd := int(f.Fd())
	errs := make([]error, len(data)/size)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range errs {
		wg.Go(func() {
			ready.Wait()
			off := i * size
			n, err := unix.Pwrite(fd, data[off:off+size], int64(off))
			if err == nil && n != size {
				err = errors.New("short write")
			}
			errs[i] = err
		})
	}
	ready.Done()
	wg.Wait()
	return errors.Join(errs...)
}
