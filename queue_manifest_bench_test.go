package efsync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// BenchmarkQueuedBackupManifest measures what the manifest of a backup
// through a queue costs: the first backup of 1,000 files of 256 KiB
// (250 MiB) behind latencyfs at 1 ms per metadata call, 3 workers on a
// MemQueue (NoXattrs and the 1 s caches are EFS's, as in BenchmarkSync).
// read/src-byte is the data read from the mount per byte of
// the source (1 when the leader's manifest takes the workers' sums, 2
// when it reads their files back); manifest-s is the manifest phase.
//
//	go test -run '^$' -bench QueuedBackupManifest -benchtime 3x .
func BenchmarkQueuedBackupManifest(b *testing.B) {
	const files, size = 1000, 256 << 10
	disk := testtree.TempDir(b)
	body := make([]byte, size)
	for i := range files {
		dir := filepath.Join(disk, "src", fmt.Sprintf("d%02d", i%20))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		body[0], body[1] = byte(i), byte(i>>8) // distinct contents
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	m := latencyfs.Start(b, disk, latencyfs.Options{Delay: time.Millisecond, AttrTTL: time.Second, EntryTTL: time.Second, NoXattrs: true})
	var read, manifest []float64
	n := 0
	for b.Loop() {
		b.StopTimer()
		// A new repository each run, the last one removed on disk: a
		// name the kernel has not cached.
		if err := os.RemoveAll(filepath.Join(disk, fmt.Sprint("repo", n))); err != nil {
			b.Fatal(err)
		}
		n++
		if err := m.Reset(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rec := queuedBackup(b, m.Dir()+"/src", fmt.Sprint(m.Dir(), "/repo", n))
		b.StopTimer()
		c, err := m.Counts()
		if err != nil {
			b.Fatal(err)
		}
		read = append(read, float64(c.BytesRead)/(files*size))
		for _, ph := range rec.Phases {
			if ph.Name == "manifest" {
				manifest = append(manifest, ph.Stop.Sub(ph.Start).Seconds())
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(medianFloat(read), "read/src-byte")
	b.ReportMetric(medianFloat(manifest), "manifest-s")
}

// queuedBackup backs src up into repo through a MemQueue and 3 workers.
func queuedBackup(b *testing.B, src, repo string) *efsync.Record {
	q := efsync.NewMemQueue(time.Minute)
	defer benchWorkers(b, q, 3, 8)()
	rec, err := efsync.Backup(context.Background(), src, repo, efsync.BackupOptions{Options: efsync.Options{Queue: q, MaxFiles: 50}})
	if err != nil || rec.Status != kpi.StatusSuccess {
		b.Fatalf("backup: %v, %+v", err, rec)
	}
	return rec
}
