package efsync_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// BenchmarkDelta updates a 256 MiB file of which 1 MiB in the middle
// changed: efsync --inplace against `rsync -a --inplace --no-whole-file`
// and plain `rsync -a` (which rewrites the file whole, its default between
// local paths). The tools write through latencyfs (no delay), which
// counts the bytes that reach the file system: MiB-written-TOOL, medians.
// The destination is put back to the old file, untimed, before each run.
//
//	go test -run '^$' -bench Delta -benchtime 3x .
func BenchmarkDelta(b *testing.B) {
	tools := benchkit.NewSyncTools(b)
	backing := testtree.TempDir(b)
	src, ref := filepath.Join(backing, "src"), filepath.Join(backing, "ref")
	for _, d := range []string{src, ref} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	data := make([]byte, 256<<20)
	for i := range data {
		data[i] = byte(i*2654435761>>13) ^ byte(i>>20)
	}
	writeFile(b, filepath.Join(ref, "big"), data)
	old := time.Now().Add(-time.Hour) // else rsync, to the second, would see no change
	if err := os.Chtimes(filepath.Join(ref, "big"), old, old); err != nil {
		b.Fatal(err)
	}
	copy(data[128<<20:], slices.Repeat([]byte("changed "), (1<<20)/8))
	writeFile(b, filepath.Join(src, "big"), data)
	m := latencyfs.Start(b, backing, latencyfs.Options{})
	ctx := context.Background()
	state := b.TempDir()
	contenders := []struct {
		name string
		run  func(src, dst string) (int64, error)
	}{
		{"efsync", func(s, d string) (int64, error) {
			return tools.Agent(ctx, "sync", "--inplace", "--state-dir", state, s, d)
		}},
		{"rsync-inplace", func(s, d string) (int64, error) {
			return tools.RsyncArgs(ctx, "-a", "--inplace", "--no-whole-file", s+"/", d+"/")
		}},
		{"rsync", func(s, d string) (int64, error) { return tools.RsyncArgs(ctx, "-a", s+"/", d+"/") }},
	}
	r := benchkit.NewRace(b)
	written := map[string][]float64{}
	for b.Loop() {
		for _, c := range contenders {
			dst := filepath.Join(backing, "dst")
			if err := benchkit.Reset(ctx, ref, dst); err != nil { // the old file, untimed, beside the mount
				b.Fatal(err)
			}
			if err := m.Reset(); err != nil {
				b.Fatal(err)
			}
			r.Time(c.name, func() error { _, err := c.run(m.Dir()+"/src", m.Dir()+"/dst"); return err })
			n, err := m.Counts()
			if err != nil {
				b.Fatal(err)
			}
			written[c.name] = append(written[c.name], float64(n.BytesWritten)/(1<<20))
			if c.name == "efsync" {
				if err := benchkit.Exact(ctx, src, dst, testtree.CompareOptions{}); err != nil {
					b.Fatalf("efsync's copy is not exact: %v", err)
				}
			}
		}
	}
	for _, c := range contenders {
		b.ReportMetric(medianFloat(written[c.name]), "MiB-written-"+c.name)
	}
	r.Report("efsync")
}

func writeFile(b *testing.B, path string, data []byte) {
	b.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
}
