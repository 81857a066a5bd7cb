package partition

import (
	"context"
	"sync"
)

// assembler cuts the crawl's entries into chunks and sends them. Walkers
// call add with each directory's batch; one mutex makes each batch go in
// whole and in order, so a directory stays before its children. A walker
// that fills a chunk sends it while holding the mutex: when the consumer
// falls behind, every walker waits (backpressure).
type assembler struct {
	// config
	opt *Options
	out chan<- Chunk

	// state
	mu    sync.Mutex
	cur   Chunk
	next  int    // ID of the next chunk
	links links  // hard-link groups not yet complete
	items []item // with Options.Parts: every item, until finish
}

// add places the entries of batch, which the caller may reuse after. It is
// safe for concurrent use, and returns ctx's error if ctx is done while a
// chunk waits to be sent.
func (a *assembler) add(ctx context.Context, batch []Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range batch {
		it, ok := a.item(&batch[i])
		switch {
		case !ok:
		case a.opt.Parts > 0:
			a.items = append(a.items, it)
		default:
			if err := a.place(ctx, &it); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish places the hard-link groups that never completed and sends the
// chunks left: the last one in live mode, all of them with Parts. It is
// called once, after the crawl.
func (a *assembler) finish(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.opt.Parts > 0 {
		return a.parts(ctx)
	}
	for _, it := range a.links.rest() {
		if err := a.place(ctx, &it); err != nil {
			return err
		}
	}
	return a.flush(ctx)
}

// item returns the item that e makes or completes; ok is false while e's
// hard-link group waits for more links. e is copied.
func (a *assembler) item(e *Entry) (it item, ok bool) {
	if e.linked() {
		return a.links.add(*e)
	}
	return one(*e), true
}

// place adds it to the current chunk, like fpart -L: the chunk is sent
// first if it would go over MaxFiles or MaxBytes, and after if it reached
// either. An item over a limit on its own lands in an empty chunk, which
// it fills: it goes out alone.
func (a *assembler) place(ctx context.Context, it *item) error {
	if a.cur.Files > 0 && a.over(it) {
		if err := a.flush(ctx); err != nil {
			return err
		}
	}
	a.cur.add(it, a.opt.EntryCost)
	if a.full() {
		return a.flush(ctx)
	}
	return nil
}

// over reports whether adding it would take the current chunk past a limit.
func (a *assembler) over(it *item) bool {
	o := a.opt
	return (o.MaxFiles > 0 && a.cur.Files+it.n() > o.MaxFiles) ||
		(o.MaxBytes > 0 && a.cur.Bytes+it.bytes > o.MaxBytes)
}

// full reports whether the current chunk reached a limit.
func (a *assembler) full() bool {
	o := a.opt
	return (o.MaxFiles > 0 && a.cur.Files >= o.MaxFiles) || (o.MaxBytes > 0 && a.cur.Bytes >= o.MaxBytes)
}

// flush sends the current chunk, if it holds anything, and starts a new one.
func (a *assembler) flush(ctx context.Context) error {
	if a.cur.Files == 0 {
		return nil
	}
	c := a.cur
	c.ID = a.next
	a.next++
	a.cur = Chunk{Entries: make([]Entry, 0, a.capacity())}
	return sendChunk(ctx, a.out, c)
}

// capacity returns the initial capacity of a chunk's entries.
func (a *assembler) capacity() int {
	if a.opt.MaxFiles > 0 {
		return min(a.opt.MaxFiles, 4096)
	}
	return 256
}

// sendChunk sends c on out, or returns ctx's error.
func sendChunk(ctx context.Context, out chan<- Chunk, c Chunk) error {
	select {
	case out <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
