package transfer

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/efsync/efsync/partition"
)

// BatchSize is how many entries a batch, what one worker copies at a
// time, holds at most (a hard-link group may make one bigger): a chunk
// of n entries keeps at most n/BatchSize workers busy. A chunk is
// fpsync-sized (2000 entries by default), so that a small tree makes a
// few chunks: copied whole by one worker each, they would leave the
// other workers idle. Cut into batches they
// keep every worker busy, and a batch is still long enough that the
// worker's chains of directory fds, walking consecutive entries of a
// depth-first crawl, open each directory about once.
const BatchSize = 64

// batch is part of one chunk that one worker copies: consecutive single
// entries in order, then whole hard-link groups.
type batch struct {
	job    *job
	slot   int // index of this batch's failures in job.failed
	single []*partition.Entry
	groups [][]*partition.Entry
}

// len returns the number of entries in b.
func (b *batch) len() int {
	n := len(b.single)
	for _, g := range b.groups {
		n += len(g)
	}
	return n
}

// job is one chunk in flight. Its Result is complete when its last batch
// is done; the batches' failures are joined in batch order, which is the
// chunk's order with the hard-link groups last.
type job struct {
	id      int
	pending atomic.Int64 // batches not done
	begun   atomic.Int32 // 0 new, 1 begun, 2 dropped by a stop
	mu      sync.Mutex
	failed  [][]string // per batch
}

// start reports whether a worker may copy a batch of j: always once j has
// begun; if not, only when the copier isn't stopping. The first batch
// decides for the whole chunk, so a chunk is done whole or not at all.
func (j *job) start(stopping bool) bool {
	if !stopping {
		j.begun.CompareAndSwap(0, 1)
	} else {
		j.begun.CompareAndSwap(0, 2)
	}
	return j.begun.Load() == 1
}

// done records batch slot's failures; it returns the chunk's Result and
// true when that was the chunk's last batch.
func (j *job) done(slot int, failed []string) (Result, bool) {
	j.mu.Lock()
	j.failed[slot] = failed
	j.mu.Unlock()
	if j.pending.Add(-1) != 0 {
		return Result{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return Result{Chunk: j.id, Failed: slices.Concat(j.failed...)}, true
}

// batches cuts ch into batches of at most size entries: runs of
// consecutive single entries, then the hard-link groups, each group whole
// in one batch, as many groups to a batch as fit. A chunk with no entries
// makes one empty batch, so that its Result is still sent.
func batches(ch *partition.Chunk, size int) []*batch {
	j := &job{id: ch.ID}
	groups := map[[2]uint64][]*partition.Entry{}
	var order [][2]uint64
	var out []*batch
	cur := &batch{job: j}
	flush := func() {
		if cur.len() > 0 {
			cur.slot = len(out)
			out = append(out, cur)
			cur = &batch{job: j}
		}
	}
	for i := range ch.Entries {
		e := &ch.Entries[i]
		if e.Err == nil && e.Nlink > 1 && !e.IsDir() {
			k := [2]uint64{e.Dev, e.Ino}
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], e)
			continue
		}
		cur.single = append(cur.single, e)
		if len(cur.single) >= size {
			flush()
		}
	}
	flush()
	for _, k := range order {
		g := groups[k]
		if cur.len() > 0 && cur.len()+len(g) > size {
			flush()
		}
		cur.groups = append(cur.groups, g)
	}
	flush()
	if len(out) == 0 {
		out = append(out, cur)
	}
	j.failed = make([][]string, len(out))
	j.pending.Store(int64(len(out)))
	return out
}

// batch copies b's entries: single entries in order, then each hard-link
// group as a whole. It returns the entries that failed, and an error that
// stops the run.
func (w *worker) batch(ctx context.Context, b *batch) ([]string, error) {
	var r Result
	for _, e := range b.single {
		if err := w.do(ctx, e, func(kf *fileReport) error { return w.entry(ctx, e, kf) }); err != nil {
			if !w.failed(&r, e.Path, err) {
				return nil, err
			}
		}
	}
	for _, g := range b.groups {
		if len(g) == 1 { // the other links are outside the tree
			e := g[0]
			if err := w.do(ctx, e, func(kf *fileReport) error { return w.entry(ctx, e, kf) }); err != nil && !w.failed(&r, e.Path, err) {
				return nil, err
			}
			continue
		}
		if err := w.group(ctx, g, &r); err != nil {
			return nil, err
		}
	}
	return r.Failed, nil
}
