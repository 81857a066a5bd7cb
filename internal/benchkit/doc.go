// Package benchkit holds what efsync's benchmarks share: trees to run on,
// other tools run as child processes, the stat-walk floor, reporting
// ratios measured in one run, and the sync race (SyncSetting: efsync's
// agent, rsync and fpsync on one source, each efsync copy checked by
// Exact).
//
//	src := benchkit.Tree(b, testtree.Large(1, 100_000))
//	r := benchkit.NewRace(b)
//	for b.Loop() {
//		r.Time("efsync", func() error { ... })
//		r.Time("rsync", func() error { return benchkit.Cmd(ctx, "rsync", "-aH", ...) })
//	}
//	r.Report("efsync") // x-vs-rsync = median(rsync) / median(efsync)
//
//	s := &benchkit.SyncSetting{Tools: benchkit.NewSyncTools(b), Src: src, SrcDisk: src, View: dir, Disk: dir}
//	s.Run(b) // full, nochange, changed: for each, b.N × {reset, efsync, rsync, fpsync}, then Report
//
// Times are medians of the runs in one benchmark: these machines are noisy,
// and only ratios measured side by side mean anything.
package benchkit
