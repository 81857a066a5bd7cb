package transfer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// BenchmarkHugeFile copies a 512 MiB file with HugeWorkers 8 against 1:
// x-vs-x1 is how many times faster 8 chunk workers are (the goal is 4 or
// more). latencyfs waits 2 ms per read or write call: on the source only
// (src-delay, the destination a local directory), or on both sides
// (both-delay).
//
// The destination of both-delay is a second mount that writes as the NFS
// client on EFS does (WritebackCache): the copy_file_range of each worker
// splices 64 KiB at a time into the page cache (FUSE, like NFS 4.1, has
// no server-side copy here), and the kernel writes the dirty pages back
// in parallel, up to 1 MiB per delayed call; close waits for them. Without
// it FUSE holds the inode lock across each splice and its write call, so
// the workers wait for one another, 8 delays per MiB in a row. NoXattrs
// and AttrTTL are EFS's too, and spare each splice a GETATTR and a
// GETXATTR(security.capability) that NFS does not send (see
// latencyfs.Options.WritebackCache). The kernel owns the size and mtime
// until close, so each copy is checked with benchkit.Exact.
//
// It drives transfer directly: efsync.Options has no HugeWorkers yet. The
// destination file is removed, untimed, before each run.
//
//	go test -run '^$' -bench HugeFile -benchtime 3x ./transfer/
func BenchmarkHugeFile(b *testing.B) {
	backing := testtree.TempDir(b)
	src := filepath.Join(backing, "src")
	for _, d := range []string{src, filepath.Join(backing, "dst")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	data := make([]byte, 512<<20)
	for i := range data {
		data[i] = byte(i*2654435761>>13) ^ byte(i>>20)
	}
	if err := os.WriteFile(filepath.Join(src, "big"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	data = nil
	m := latencyfs.Start(b, backing, latencyfs.Options{DataDelay: 2 * time.Millisecond})
	dm := latencyfs.Start(b, filepath.Join(backing, "dst"), latencyfs.Options{
		DataDelay:      2 * time.Millisecond,
		WritebackCache: true,
		NoXattrs:       true,
		AttrTTL:        time.Second,
	})
	local := testtree.TempDir(b)
	for _, bc := range []struct {
		name     string
		dst, out string           // the destination as written and as read back
		dm       *latencyfs.Mount // the destination's mount, if any
	}{
		{"src-delay", local, local, nil},
		{"both-delay", dm.Dir(), filepath.Join(backing, "dst"), dm},
	} {
		b.Run(bc.name, func(b *testing.B) { benchHuge(b, m.Dir()+"/src", src, bc.dst, bc.out, bc.dm) })
	}
}

// benchHuge races 8 workers against 1. With dm set it logs the write
// calls that reached the destination's mount, and how many overlapped.
func benchHuge(b *testing.B, src, srcBacking, dst, dstBacking string, dm *latencyfs.Mount) {
	r := benchkit.NewRace(b)
	for b.Loop() {
		for _, workers := range []int{8, 1} {
			if err := os.RemoveAll(filepath.Join(dstBacking, "big")); err != nil {
				b.Fatal(err)
			}
			opt := Options{ContentOptions: ContentOptions{HugeWorkers: workers}}
			name := fmt.Sprintf("x%d", workers)
			if dm != nil {
				if err := dm.Reset(); err != nil {
					b.Fatal(err)
				}
			}
			r.Time(name, func() error {
				_, failed, err := syncTrees(b, src, dst, opt)
				if err == nil && len(failed) > 0 {
					err = fmt.Errorf("failed %q", failed)
				}
				return err
			})
			if err := benchkit.Exact(context.Background(), srcBacking, dstBacking, testtree.CompareOptions{}); err != nil {
				b.Fatalf("%s: the copy is not exact: %v", name, err)
			}
			if dm != nil {
				c, err := dm.Counts()
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: %d write calls at the destination, at most %d at once; %d getattr, %d getxattr", name, c.Ops["write"], c.MaxWritesInFlight, c.Ops["getattr"], c.Ops["getxattr"])
			}
		}
	}
	r.Report("x8")
}
