package efsync_test

import (
	"context"
	"testing"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/testtree"
)

func BenchmarkScratch(b *testing.B) {
	base := testtree.TempDir(b)
	mirror(b, base, benchFiles(b, 100_000))
	src, dst := base+"/src", base+"/dst"
	ctx := context.Background()
	r := benchkit.NewRace(b)
	state := b.TempDir()
	for b.Loop() {
		r.Time("statwalk-32", func() error {
			for _, d := range []string{src, dst} {
				if _, err := benchkit.StatWalk(ctx, d, 32); err != nil {
					return err
				}
			}
			return nil
		})
		r.Time("sync", func() error {
			_, err := efsync.Sync(ctx, src, dst, efsync.Delete(), efsync.StateDir(state))
			return err
		})
		r.Time("sync-noxattrs", func() error {
			_, err := efsync.Sync(ctx, src, dst, efsync.Delete(), efsync.StateDir(state), func(o *efsync.Options) { o.NoXattrs = true })
			return err
		})
	}
	r.Report("sync")
}
