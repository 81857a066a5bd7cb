package efsync

import (
	"context"
	"strings"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
)

// What the engine hands the crawl and the copier, from its options.

// filter is the crawl's filter: the user's excludes, and the state.
func (e *engine) filter() partition.Filter {
	f := partition.Filter{Exclude: e.o.Excludes}
	if e.skipSrc != "" && e.skipSrc != "." {
		f.ExcludePaths = []string{e.skipSrc}
	}
	return f
}

// copier returns a Copier from src to dst with the run's options.
func (e *engine) copier(ctx context.Context, counters *kpi.Counters, del bool, skips func(string) bool) (*transfer.Copier, error) {
	o := e.o
	protect := func(rel string) bool {
		return skips(rel) || (e.stateRel != "" && (rel == e.stateRel || strings.HasPrefix(e.stateRel, rel+"/") ||
			strings.HasPrefix(rel, e.stateRel+"/")))
	}
	var before func(int64) error
	if o.MaxDelete > 0 || o.MaxDeletePercent > 0 {
		before = func(n int64) error {
			return deleteLimit(n, counters.Report().Scanned.Total(), o.MaxDelete, o.MaxDeletePercent)
		}
	}
	to := transfer.Options{Workers: o.Workers, Delete: del,
		DryRun: o.DryRun, Itemize: o.Itemize, NoXattrs: o.NoXattrs, Settled: e.settled,
		LinkDest: o.LinkDest, Reporter: counters, Logger: o.Logger,
		Protect: protect, BeforeDelete: before}
	to.Checksum, to.InPlace = o.Checksum, o.InPlace
	to.HugeMin, to.HugeWorkers, to.HugePiece = o.HugeMin, o.HugeWorkers, o.HugePiece
	if e.partial != nil {
		to.Partial = e.partial
	}
	if e.dirty != nil {
		to.Dirty, to.Clean = e.dirty.dirty, e.dirty.clean
	}
	if len(e.recheck) > 0 {
		to.Recheck = func(rel string) bool { return e.recheck[rel] }
	}
	if o.refGroups != nil {
		to.RefGroups = func(rel string) bool { return o.refGroups[rel] }
	}
	if o.onDone != nil {
		to.OnDone, to.Hash = o.onDone, true
	}
	return transfer.New(ctx, e.src, e.dst, to)
}
