package latencyfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestParallelWrites checks that with Options.WritebackCache the writes
// of several goroutines to one file reach the file system at once, about
// one call per 1 MiB, as an NFS client sends them on writeback; and that
// without it FUSE serialises them into 128 KiB calls, which is why the
// option exists. The time runs until close(2) has returned, as the
// writeback may not start before fsync or close.
func TestParallelWrites(t *testing.T) {
	const (
		writers = 8
		size    = 1 << 20 // per writer
		delay   = 30 * time.Millisecond
	)
	for _, tc := range []struct {
		name      string
		writeback bool
		fsync     bool // fsync before close; else close flushes
		// want
		minInFlight, maxInFlight int64
		minCalls, maxCalls       int64 // write calls
		maxTime                  time.Duration
	}{
		// 64 calls of 128 KiB, one at a time.
		{name: "default", minInFlight: 1, maxInFlight: 1, minCalls: writers * 8, maxCalls: writers * 8},
		// The kernel may start writing back pages while the writers
		// still fill others, in smaller pieces; -race and a busy
		// machine may keep a few calls from overlapping.
		{name: "writeback-fsync", writeback: true, fsync: true, minInFlight: writers / 2, maxInFlight: 4 * writers, minCalls: writers, maxCalls: 4 * writers, maxTime: 6 * delay},
		{name: "writeback-close", writeback: true, minInFlight: writers / 2, maxInFlight: 4 * writers, minCalls: writers, maxCalls: 4 * writers, maxTime: 6 * delay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backing := t.TempDir()
			m := Start(t, backing, Options{DataDelay: delay, WritebackCache: tc.writeback})
			want := randomBytes(writers * size)
			f, err := os.OpenFile(filepath.Join(m.Dir(), "f"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			must(t, err)
			defer f.Close()
			must(t, m.Reset())

			start := time.Now()
			must(t, pwriteAll(f, want, size))
			if tc.fsync {
				must(t, f.Sync())
			}
			must(t, f.Close())
			took := time.Since(start)

			c, err := m.Counts()
			must(t, err)
			calls := c.Ops["write"]
			t.Logf("%v for %d writers; %d write calls, %d at most at once", took.Round(time.Millisecond), writers, calls, c.MaxWritesInFlight)
			if c.MaxWritesInFlight < tc.minInFlight || c.MaxWritesInFlight > tc.maxInFlight {
				t.Errorf("at most %d writes at once, want %d to %d", c.MaxWritesInFlight, tc.minInFlight, tc.maxInFlight)
			}
			if calls < tc.minCalls || calls > tc.maxCalls || c.BytesWritten != int64(len(want)) {
				t.Errorf("%d write calls, %d bytes; want %d to %d calls and %d bytes", calls, c.BytesWritten, tc.minCalls, tc.maxCalls, len(want))
			}
			// calls*delay of waiting, at most MaxWritesInFlight at a time.
			if minTime := time.Duration(calls) * delay / time.Duration(max(c.MaxWritesInFlight, 1)); took < minTime {
				t.Errorf("took %v, want >= %v: the delay was not waited before close returned", took, minTime)
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

// pwriteAll writes data to f with one goroutine per piece of size bytes
// (the last may be shorter), each with one pwrite at its offset, all
// started at once.
func pwriteAll(f *os.File, data []byte, size int) error {
	fd := int(f.Fd())
	errs := make([]error, (len(data)+size-1)/size)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range errs {
		wg.Go(func() {
			ready.Wait()
			off := i * size
			end := min(off+size, len(data))
			n, err := unix.Pwrite(fd, data[off:end], int64(off))
			if err == nil && n != end-off {
				err = errors.New("short write")
			}
			errs[i] = err
		})
	}
	ready.Done()
	wg.Wait()
	return errors.Join(errs...)
}

// TestWritebackExact checks that a file written through
// Options.WritebackCache the way our copier writes one (write, set the
// size, chmod, futimens, maybe fsync, close, rename) reaches the backing
// directory with its content and the times set, to the nanosecond. With
// the writeback cache the kernel owns the size and mtime until it
// flushes: a WRITE sent after the SETATTR of the times would make the
// backing file system stamp the mtime anew.
func TestWritebackExact(t *testing.T) {
	const size = 5<<20 + 12345 // the last page in part
	mtime := unix.NsecToTimespec(1_234_567_891_123_456_789)
	atime := unix.NsecToTimespec(1_111_111_111_222_222_222)
	for _, tc := range []struct {
		name      string
		cfr       bool // copy_file_range from a file of the mount, as the copier does
		timesOnly bool // no chmod, whose SETATTR would flush the pages first
		fsync     bool
		cached    bool // with NoXattrs and AttrTTL, as BenchmarkHugeFile mounts it
	}{
		{name: "pwrite"},
		{name: "pwrite-fsync", fsync: true},
		{name: "pwrite-times-only", timesOnly: true},
		{name: "copy_file_range", cfr: true},
		{name: "copy_file_range-fsync", cfr: true, fsync: true},
		{name: "copy_file_range-times-only", cfr: true, timesOnly: true},
		{name: "copy_file_range-cached", cfr: true, cached: true},
		{name: "copy_file_range-cached-times-only", cfr: true, cached: true, timesOnly: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backing := t.TempDir()
			want := randomBytes(size)
			writeFile(t, backing, "src", want)
			// The data delay keeps the writeback in flight while the
			// test goes on.
			opt := Options{DataDelay: 20 * time.Millisecond, WritebackCache: true}
			if tc.cached {
				opt.NoXattrs, opt.AttrTTL = true, time.Second
			}
			m := Start(t, backing, opt)
			tmp, dst := filepath.Join(m.Dir(), ".tmp"), filepath.Join(m.Dir(), "dst")
			f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			must(t, err)
			defer f.Close()
			if tc.cfr {
				must(t, copyAll(filepath.Join(m.Dir(), "src"), f, size, 1<<20))
			} else {
				must(t, pwriteAll(f, want, 1<<20))
			}
			fd := int(f.Fd())
			must(t, unix.Ftruncate(fd, size))
			c, err := m.Counts()
			must(t, err)
			t.Logf("%d of %d bytes written back before the times were set", c.BytesWritten, size)
			wantMode := uint32(0o600)
			if !tc.timesOnly {
				wantMode = 0o644
				must(t, unix.Fchmod(fd, wantMode))
			}
			must(t, futimens(fd, &[2]unix.Timespec{atime, mtime}))
			if tc.fsync {
				must(t, f.Sync())
			}
			must(t, f.Close())
			must(t, os.Rename(tmp, dst))

			var st unix.Stat_t
			must(t, unix.Stat(filepath.Join(backing, "dst"), &st))
			if st.Mtim != mtime || st.Atim != atime {
				t.Errorf("backing mtime %d, atime %d; want %d and %d", st.Mtim.Nano(), st.Atim.Nano(), mtime.Nano(), atime.Nano())
			}
			if st.Size != size || st.Mode&0o7777 != wantMode {
				t.Errorf("backing size %d, mode %o; want %d and %o", st.Size, st.Mode&0o7777, size, wantMode)
			}
			got, err := os.ReadFile(filepath.Join(backing, "dst"))
			must(t, err)
			if !bytes.Equal(got, want) {
				t.Error("backing content differs from what was written")
			}
		})
	}
}

// copyAll copies size bytes of the file src to f with copy_file_range,
// one goroutine per piece of size bytes, each with its own source fd.
func copyAll(src string, f *os.File, size, piece int) error {
	errs := make([]error, (size+piece-1)/piece)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			in, err := os.Open(src)
			if err != nil {
				errs[i] = err
				return
			}
			defer in.Close()
			for off, end := int64(i*piece), int64(min((i+1)*piece, size)); off < end; {
				roff, woff := off, off
				n, err := unix.CopyFileRange(int(in.Fd()), &roff, int(f.Fd()), &woff, int(end-off), 0)
				if err == nil && n == 0 {
					err = errors.New("short copy")
				}
				if err != nil {
					errs[i] = err
					return
				}
				off += int64(n)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// futimens is futimens(3), utimensat on fd itself (a NULL path), as the
// copier sets times; x/sys/unix has no wrapper for it.
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
