package kpi_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// reporter is the kind of narrow interface a stage declares; *Counters
// must satisfy it.
type reporter interface {
	StartFile(rel string, size int64) *kpi.File
	Scanned(t kpi.EntryType, size int64)
	Error(rel string, err error)
	Vanished(rel string)
}

var _ reporter = (*kpi.Counters)(nil)

// t0 is the start of the fixed run.
var t0 = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// at sets the clock to t0+d.
func (c *clock) at(d time.Duration) {
	c.mu.Lock()
	c.t = t0.Add(d)
	c.mu.Unlock()
}

// fixedReport returns the report of a small run with fixed times, the one
// the golden files show.
func fixedReport(t *testing.T) kpi.Report {
	t.Helper()
	clk := &clock{t: t0}
	c := kpi.New(kpi.Options{RunID: "20261128T020000Z-1a2b3c4d", Source: "/mnt/efs-src",
		Destination: "/mnt/efs-backup/efs-src/daily.0", MaxErrors: 2, Now: clk.now})

	stopCrawl := c.StartPhase("crawl")
	for _, e := range []struct {
		t    kpi.EntryType
		size int64
	}{{kpi.TypeDir, 0}, {kpi.TypeDir, 0}, {kpi.TypeFile, 1000}, {kpi.TypeFile, 2500},
		{kpi.TypeFile, 0}, {kpi.TypeFile, 1234567}, {kpi.TypeFile, 40}, {kpi.TypeFile, 7},
		{kpi.TypeFile, 9}, {kpi.TypeSymlink, 11}, {kpi.TypeFIFO, 0}} {
		c.Scanned(e.t, e.size)
	}
	c.Error("dir/unreadable", &os.PathError{Op: "open", Path: "dir/unreadable", Err: syscall.EIO})
	clk.at(1500 * time.Millisecond)
	stopCrawl()

	stopCopy := c.StartPhase("copy")
	copyFile(t, c, "a.txt", 1000, 0, kpi.Created)
	copyFile(t, c, "big.bin", 2500, 2000, kpi.Updated)
	copyFile(t, c, "empty", 0, 0, kpi.Created)
	c.StartFile("dir", 0).Done(kpi.Created, nil) // no data: not transferred
	c.StartFile("link.txt", 1234567).Done(kpi.HardLinked, nil)
	c.StartFile("same.txt", 40).Done(kpi.Unchanged, nil)
	c.StartFile("chmod.txt", 7).Done(kpi.MetadataOnly, nil)
	c.StartFile("special/null", 0).Done(kpi.Skipped, nil)
	c.StartFile("secret", 9).Done(kpi.Created,
		&os.PathError{Op: "open", Path: "secret", Err: syscall.EACCES})
	c.StartFile("gone", 11).Done(kpi.Created,
		&os.PathError{Op: "lstat", Path: "gone", Err: syscall.ENOENT})
	c.Error("full", &os.PathError{Op: "write", Path: "full", Err: syscall.ENOSPC}) // beyond MaxErrors
	c.AddPartition(kpi.Partition{ID: 2, Entries: 4, Files: 3, Bytes: 1234614,
		Start: t0.Add(2 * time.Second), End: t0.Add(9 * time.Minute), Status: kpi.StatusSuccess, Attempts: 1})
	c.AddPartition(kpi.Partition{ID: 1, Entries: 7, Files: 4, Bytes: 3509,
		Start: t0.Add(1600 * time.Millisecond), End: t0.Add(8 * time.Minute),
		Status: kpi.StatusPartial, Error: "open secret: permission denied", Attempts: 2})
	clk.at(9 * time.Minute)
	stopCopy()

	stopDelete := c.StartPhase("delete")
	c.Deleted(kpi.TypeFile)
	c.Deleted(kpi.TypeDir)
	clk.at(10*time.Minute + 250*time.Millisecond)
	stopDelete()
	c.Finish(kpi.StatusPartial)
	return c.Report()
}

// copyFile copies size bytes through a File's Reader, of which matched are
// reported as matched, and books o.
func copyFile(t *testing.T, c *kpi.Counters, rel string, size, matched int64, o kpi.Outcome) {
	t.Helper()
	f := c.StartFile(rel, size)
	var dst bytes.Buffer
	if _, err := dst.ReadFrom(f.Reader(bytes.NewReader(make([]byte, size)))); err != nil {
		t.Fatal(err)
	}
	f.Matched(matched)
	f.Done(o, nil)
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", path, diff)
	}
}
