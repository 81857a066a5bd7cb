package kpi_test

import (
	"io"
	"io/fs"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

// TestConcurrentTotals updates every counter from many goroutines while
// another takes reports, and checks that the totals are exact. Run it with
// -race.
func TestConcurrentTotals(t *testing.T) {
	const workers, iters, maxErrors = 16, 400, 10
	types := []kpi.EntryType{kpi.TypeFile, kpi.TypeDir, kpi.TypeSymlink, kpi.TypeFIFO,
		kpi.TypeSocket, kpi.TypeDevice, kpi.TypeOther}
	c := kpi.New(kpi.Options{MaxErrors: maxErrors})

	done := make(chan struct{})
	var reports sync.WaitGroup
	reports.Go(func() { // reports taken during the run must not race
		for {
			select {
			case <-done:
				return
			default:
				_ = c.Report()
			}
		}
	})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range iters {
				c.Scanned(types[i%len(types)], 3)
				f := c.StartFile("f", 7)
				if _, err := io.Copy(io.Discard, f.Reader(strings.NewReader("abcdefg"))); err != nil {
					t.Error(err)
				}
				f.Matched(2)
				var both sync.WaitGroup // two Done at once book once
				both.Go(func() { f.Done(kpi.Created, nil) })
				both.Go(func() { f.Done(kpi.Updated, nil) })
				both.Wait()
				c.Error("e", syscall.EIO)
				if i%2 == 0 {
					c.Vanished("v")
				}
				c.Deleted(kpi.TypeDir)
				c.StartPhase("copy")()
				if i%100 == 0 {
					c.AddPartition(kpi.Partition{ID: w*iters + i, Status: kpi.StatusSuccess})
				}
			}
		})
	}
	wg.Wait()
	close(done)
	reports.Wait()

	r := c.Report()
	const n = workers * iters
	if got := r.Scanned.Total(); got != n {
		t.Errorf("Scanned.Total() = %d, want %d", got, n)
	}
	perType := int64(0)
	for i := range iters {
		if i%len(types) == 0 {
			perType++
		}
	}
	if r.Scanned.File != perType*workers {
		t.Errorf("Scanned.File = %d, want %d", r.Scanned.File, perType*workers)
	}
	wantBytes := kpi.ByteCounts{Scanned: 3 * n, Transferred: 7 * n, Read: 7 * n, Literal: 5 * n, Matched: 2 * n}
	if diff := cmp.Diff(wantBytes, r.Bytes); diff != "" {
		t.Errorf("Bytes (-want +got):\n%s", diff)
	}
	if f := r.Files; f.Created+f.Updated != n || f.Transferred != n || f.InFlight != 0 {
		t.Errorf("Files = %+v, want created+updated = transferred = %d, none in flight", f, n)
	}
	if r.Errors.Total != n || r.Errors.ByClass.IO != n || len(r.Errors.First) != maxErrors {
		t.Errorf("Errors: total %d, io %d, kept %d; want %d %d %d",
			r.Errors.Total, r.Errors.ByClass.IO, len(r.Errors.First), n, n, maxErrors)
	}
	if r.Vanished != n/2 || len(r.VanishedPaths) != maxErrors {
		t.Errorf("Vanished = %d, kept %d; want %d, %d", r.Vanished, len(r.VanishedPaths), n/2, maxErrors)
	}
	if r.Deleted.Dir != n {
		t.Errorf("Deleted.Dir = %d, want %d", r.Deleted.Dir, n)
	}
	if len(r.Partitions) != workers*iters/100 {
		t.Errorf("%d partitions, want %d", len(r.Partitions), workers*iters/100)
	}
	if len(r.Phases) != 1 || r.Phases[0].Running {
		t.Errorf("Phases = %+v, want one stopped phase", r.Phases)
	}
}

func TestNilCounters(t *testing.T) {
	var c *kpi.Counters
	c.Scanned(kpi.TypeFile, 1)
	c.Deleted(kpi.TypeFile)
	c.Error("a", syscall.EIO)
	c.Vanished("a")
	c.StartPhase("copy")()
	c.AddPartition(kpi.Partition{ID: 1})
	c.Finish(kpi.StatusSuccess)
	f := c.StartFile("a", 1)
	if f != nil {
		t.Fatalf("StartFile on nil Counters = %v, want nil", f)
	}
	src := strings.NewReader("x")
	if got := f.Reader(src); got != io.Reader(src) {
		t.Errorf("nil File's Reader wrapped r")
	}
	f.Copied(1)
	f.Matched(1)
	f.Done(kpi.Created, nil)
	r := c.Report()
	if r.Version != kpi.ReportVersion || r.Scanned.Total() != 0 || r.Phases == nil {
		t.Errorf("nil Counters' Report = %+v", r)
	}
}

func TestOutOfRangeTypeCountsAsOther(t *testing.T) {
	c := kpi.New(kpi.Options{})
	c.Scanned(kpi.EntryType(99), 5)
	c.Deleted(kpi.EntryType(99))
	r := c.Report()
	if r.Scanned.Other != 1 || r.Deleted.Other != 1 || r.Bytes.Scanned != 5 {
		t.Errorf("Scanned = %+v, Deleted = %+v, want one other each", r.Scanned, r.Deleted)
	}
}

func TestFinishFirstWins(t *testing.T) {
	clk := &clock{t: t0}
	c := kpi.New(kpi.Options{Now: clk.now})
	clk.at(time.Minute)
	if r := c.Report(); r.Status != "" || !r.Stop.IsZero() || r.Seconds != 60 {
		t.Errorf("before Finish: status %q, stop %v, seconds %v; want \"\", zero, 60", r.Status, r.Stop, r.Seconds)
	}
	c.Finish(kpi.StatusIncomplete)
	clk.at(2 * time.Minute)
	c.Finish(kpi.StatusSuccess)
	r := c.Report()
	if r.Status != kpi.StatusIncomplete || !r.Stop.Equal(t0.Add(time.Minute)) || r.Seconds != 60 {
		t.Errorf("after Finish: status %q, stop %v, seconds %v; want incomplete, t0+1m, 60", r.Status, r.Stop, r.Seconds)
	}
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		name string
		mode fs.FileMode
		want kpi.EntryType
	}{
		{"regular", 0o644, kpi.TypeFile},
		{"dir", fs.ModeDir | 0o755, kpi.TypeDir},
		{"symlink", fs.ModeSymlink, kpi.TypeSymlink},
		{"fifo", fs.ModeNamedPipe, kpi.TypeFIFO},
		{"socket", fs.ModeSocket, kpi.TypeSocket},
		{"block device", fs.ModeDevice, kpi.TypeDevice},
		{"char device", fs.ModeDevice | fs.ModeCharDevice, kpi.TypeDevice},
		{"irregular", fs.ModeIrregular, kpi.TypeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kpi.TypeOf(tt.mode); got != tt.want {
				t.Errorf("TypeOf(%v) = %v, want %v", tt.mode, got, tt.want)
			}
		})
	}
}
