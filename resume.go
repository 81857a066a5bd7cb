package efsync

import (
	"context"
	"path"
	"path/filepath"
	"slices"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
)

// replay copies again the journaled chunks ids of the run being resumed,
// each as it is now in the source, with the directories that hold its
// entries, so that their metadata is set back once the copies moved their
// mtimes. It never deletes: a chunk doesn't list whole directories.
func (e *engine) replay(ctx, hard context.Context, j *journal, counters *kpi.Counters, ids []int) (int, error) {
	c, err := e.copier(hard, counters, false, func(string) bool { return false })
	if err != nil {
		return 0, err
	}
	defer c.Close()
	p := &pass{o: e.o, counters: counters, j: j, c: c, hard: hard}
	defer counters.StartPhase("replay")()
	complete, err := p.Run(ctx, func(ctx context.Context, out chan<- partition.Chunk) error {
		defer close(out)
		for _, id := range ids {
			rels, err := readList(j.chunkPath(id))
			if err != nil {
				return err
			}
			entries, vanished, err := partition.Restat(e.src, withParents(rels), true)
			if err != nil {
				return err
			}
			for _, v := range vanished {
				counters.Vanished(v)
			}
			ch := partition.Chunk{ID: id, Entries: entries}
			for i := range entries {
				if entries[i].IsRegular() {
					ch.Files++
					ch.Bytes += entries[i].Size
				}
			}
			select {
			case out <- ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if err != nil || !complete {
		return p.failed, err
	}
	return p.failed, c.Finish(ctx)
}

// withParents returns rels after the directories that hold them, each
// once, parents first.
func withParents(rels []string) []string {
	seen := make(map[string]bool, len(rels))
	for _, r := range rels {
		seen[r] = true
	}
	var dirs []string
	for _, r := range rels {
		for d := path.Dir(r); !seen[d]; d = path.Dir(d) {
			seen[d] = true
			dirs = append(dirs, d)
			if d == "." {
				break
			}
		}
	}
	slices.Sort(dirs) // a parent sorts before its children
	return append(dirs, rels...)
}

// cleanKilled removes the temporary files that killed runs of this pair,
// or runs that abandoned stuck copies, left in the destination: only in
// the directories of the chunks they were copying, as their journals
// tell, and not the partial huge copies recorded to be resumed. It then marks them cleaned, and removes the oldest runs beyond
// keepRuns.
func (e *engine) cleanKilled(ctx context.Context) error {
	runs, err := listRuns(e.pair.dir, true)
	if err != nil {
		return err
	}
	for _, r := range runs {
		for rel := range readDirty(filepath.Join(e.pair.dir, "runs", r.ID)) {
			if e.recheck == nil {
				e.recheck = map[string]bool{}
			}
			e.recheck[rel] = true // a crash or a failure cut its rewrite short
		}
		if (r.Status != StatusKilled && !r.abandoned) || r.cleaned {
			continue
		}
		dir := filepath.Join(e.pair.dir, "runs", r.ID)
		var dirs []string
		for _, id := range r.PendingChunks {
			rels, err := readList(chunkFile(dir, id))
			if err != nil {
				return err
			}
			for _, rel := range rels {
				dirs = append(dirs, path.Dir(rel))
			}
		}
		slices.Sort(dirs)
		n, err := transfer.RemoveTemps(ctx, e.dst, slices.Compact(dirs), e.partial.temps())
		if err != nil {
			return err
		}
		e.o.Logger.Info("cleaned up after a killed run", "run", r.ID, "temporary_files", n)
		m, err := readMeta(dir)
		if err != nil {
			return err
		}
		if r.Status == StatusKilled {
			m.Status = StatusKilled
		}
		m.Cleaned = true
		if err := writeMeta(dir, m); err != nil {
			return err
		}
	}
	return pruneRuns(e.pair.dir, runs, keepRuns)
}
