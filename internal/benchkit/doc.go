// Package benchkit holds what efsync's benchmarks share: trees to run on,
// other tools run as child processes, the stat-walk floor, and reporting
// ratios measured in one run.
//
//	src := benchkit.Tree(b, testtree.Large(1, 100_000))
//	r := benchkit.NewRace(b)
//	for b.Loop() {
//		r.Time("efsync", func() error { ... })
//		r.Time("rsync", func() error { return benchkit.Cmd(ctx, "rsync", "-aH", ...) })
//	}
//	r.Report("efsync") // x-vs-rsync = median(rsync) / median(efsync)
//
// Times are medians of the runs in one benchmark: these machines are noisy,
// and only ratios measured side by side mean anything.
package benchkit
