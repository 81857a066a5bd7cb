package efsync

import (
	"context"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sync/errgroup"
)

// producer sends chunks to out, and closes it when it returns: a crawl, or
// a journal's replay.
type producer func(ctx context.Context, out chan<- partition.Chunk) error

// pass copies the chunks a producer sends, while it sends them, and
// journals each: before it starts, and when it ends.
type pass struct {
	// config
	o        *Options
	counters *kpi.Counters
	j        *journal // nil in a dry run
	c        *transfer.Copier
	hard     context.Context // copies in flight stop when it is done
	idBase   int             // added to chunk ids: a resumed run's new chunks get new ids
	groups   *[]string       // if set, gets the paths of hard-link group members

	// state
	mu      sync.Mutex
	started map[int]kpi.Partition
	failed  int // entries that failed
}

// Run copies what produce sends. When ctx is done (a signal, the
// deadline), no new chunk starts, and the chunks being copied go on until
// p.hard ends too. complete says produce sent everything it had; err is
// what stopped the pass early: a copy's fatal error, the journal's, or
// the hard context's.
func (p *pass) Run(ctx context.Context, produce producer) (complete bool, err error) {
	p.started = map[int]kpi.Partition{}
	g, gctx := errgroup.WithContext(p.hard)
	prodCtx, cancelProd := context.WithCancel(gctx)
	defer cancelProd()
	defer context.AfterFunc(ctx, cancelProd)() // a stop ends the producer, not the copies
	defer context.AfterFunc(ctx, p.c.Stop)()   // nor the chunks begun
	chunks, todo := make(chan partition.Chunk, 2), make(chan partition.Chunk)
	results := make(chan transfer.Result, 8)
	g.Go(func() error { return produceStoppable(ctx, gctx, prodCtx, produce, chunks, &complete) })
	g.Go(func() error { defer close(todo); return p.gate(ctx, gctx, chunks, todo) })
	g.Go(func() error { defer close(results); return p.c.Run(gctx, todo, results) })
	g.Go(func() error {
		for r := range results {
			p.ended(r)
		}
		return nil
	})
	errc := make(chan error, 1)
	go func() { errc <- g.Wait() }()
	select {
	case err = <-errc:
	case <-p.hard.Done():
		select {
		case err = <-errc:
		case <-time.After(abandonAfter):
			n := p.c.Abandon()
			p.o.Logger.Warn("copies did not stop; a later run removes what they leave", "temporary_files", n)
			if err := p.j.event("abandoned"); err != nil {
				p.o.Logger.Warn("journal", "err", err)
			}
			return false, p.hard.Err()
		}
	}
	return complete && err == nil, err
}

// abandonAfter is how long copies cut short may take to stop before the
// pass gives up on them: a call the file system never answers must not
// keep an aborted run alive.
const abandonAfter = 2 * time.Second

// gate books the chunks' entries as scanned, journals each chunk, and
// passes it on to the copier, until ctx is done: then it starts no more,
// but drains in so that the producer can end.
func (p *pass) gate(ctx, gctx context.Context, in <-chan partition.Chunk, out chan<- partition.Chunk) error {
	for ch := range in {
		bookScanned(p.counters, ch.Entries, p.groups)
		if ctx.Err() != nil {
			continue
		}
		ch.ID += p.idBase
		if err := p.j.pending(ch.ID, ch.Entries); err != nil {
			return err
		}
		p.mu.Lock()
		p.started[ch.ID] = kpi.Partition{ID: ch.ID, Entries: int64(len(ch.Entries)), Files: int64(ch.Files),
			Bytes: ch.Bytes, Start: time.Now(), Attempts: 1}
		p.mu.Unlock()
		select {
		case out <- ch:
		case <-ctx.Done(): // journaled as pending: a resume copies it
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	return nil
}

// ended journals and books a chunk that the copier finished.
func (p *pass) ended(r transfer.Result) {
	if err := p.j.done(r.Chunk, r.Failed); err != nil {
		p.o.Logger.Warn("journal", "chunk", r.Chunk, "err", err) // a resume then redoes the chunk: no harm
	}
	p.mu.Lock()
	part := p.started[r.Chunk]
	delete(p.started, r.Chunk)
	p.failed += len(r.Failed)
	p.mu.Unlock()
	part.End, part.Status = time.Now(), kpi.StatusSuccess
	if len(r.Failed) > 0 {
		part.Status, part.Error = kpi.StatusPartial, r.Failed[len(r.Failed)-1]+": failed"
	}
	p.counters.AddPartition(part)
}

// produceStoppable runs produce with prodCtx, which a stop (ctx) cancels:
// a crawl cut short by a stop is no failure, one cut by the run's
// failure (gctx) is. It sets complete when the crawl ended on its own.
func produceStoppable(ctx, gctx, prodCtx context.Context, produce producer, out chan<- partition.Chunk, complete *bool) error {
	err := produce(prodCtx, out)
	if err != nil && ctx.Err() != nil && gctx.Err() == nil {
		return nil // stopped, not failed
	}
	*complete = err == nil && ctx.Err() == nil
	return err
}

// bookScanned counts entries as the crawl found them and, if groups is
// set, adds the paths of hard-link group members to it.
func bookScanned(counters *kpi.Counters, entries []partition.Entry, groups *[]string) {
	for i := range entries {
		e := &entries[i]
		size := int64(0)
		if e.IsRegular() {
			size = e.Size
		}
		counters.Scanned(kpi.TypeOf(e.FileMode()), size)
		if groups != nil && e.Nlink > 1 && !e.IsDir() {
			*groups = append(*groups, e.Path)
		}
	}
}
