package efsync

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// leader is a pass whose copies workers do, through Options.Queue: it
// books and journals each chunk the crawl sends, makes its directories
// (Copier.Prepare), publishes it, and ends when every published chunk
// has been reported done, each counted once however often it was
// delivered.
type leader struct {
	// config
	e        *engine
	j        *journal
	counters *kpi.Counters
	c        *transfer.Copier // prepares; Finish runs on it after
	hard     context.Context  // the wait for published chunks ends when it is done
	idBase   int
	runID    string
	groups   *[]string // if set, gets the paths of hard-link group members
	copy     TaskCopy  // how workers copy: the run's options, paths absolute

	// state
	mu      sync.Mutex
	started map[int]kpi.Partition // published, not yet reported
	first   map[int]string        // the first path of each of started, to name a chunk that failed whole
	failed  int
}

// Run publishes what produce sends and waits for the completions. When
// ctx is done (a signal, the deadline), it publishes no more chunks, and
// waits for those published until l.hard ends too: workers are copying
// them, as a pass's copies go on (see pass.Run). complete says every
// chunk was published and reported; err is what stopped the run early:
// the queue's, the journal's, or the hard context's.
func (l *leader) Run(ctx context.Context, produce producer) (complete bool, err error) {
	l.started, l.first = map[int]kpi.Partition{}, map[int]string{}
	l.runID = l.counters.Report().RunID
	src, err := filepath.Abs(l.e.src)
	if err != nil {
		return false, err
	}
	dst, err := filepath.Abs(l.e.dst)
	if err != nil {
		return false, err
	}
	if l.copy, err = taskCopy(l.e.o, src); err != nil {
		return false, err
	}
	if l.copy.Sums, err = l.sumsDir(); err != nil {
		return false, err
	}
	g, gctx := errgroup.WithContext(l.hard)
	prodCtx, cancelProd := context.WithCancel(gctx)
	defer cancelProd()
	defer context.AfterFunc(ctx, cancelProd)() // a stop ends the crawl, not the wait
	chunks := make(chan partition.Chunk, 2)
	total := make(chan int, 1)
	g.Go(func() error { return produceStoppable(ctx, gctx, prodCtx, produce, chunks, &complete) })
	g.Go(func() error {
		n := 0
		for ch := range chunks {
			if ctx.Err() != nil {
				continue // stopped: drain, so that the crawl can end
			}
			if err := l.publish(gctx, &ch, src, dst); err != nil {
				return err
			}
			n++
		}
		total <- n
		return nil
	})
	g.Go(func() error { return l.collect(gctx, total) })
	if err := g.Wait(); err != nil {
		return false, err
	}
	return complete, nil
}

// publish books, journals and prepares ch, then queues it.
func (l *leader) publish(ctx context.Context, ch *partition.Chunk, src, dst string) error {
	bookScanned(l.counters, ch.Entries, l.groups)
	for i := range ch.Entries {
		if e := &ch.Entries[i]; l.e.o.onQueued != nil && !e.IsDir() && e.Err == nil { // directories are the leader's copier's
			l.e.o.onQueued(e.Path)
		}
	}
	ch.ID += l.idBase
	if err := l.j.pending(ch.ID, ch.Entries); err != nil {
		return err
	}
	failed, err := l.c.Prepare(ctx, ch) // directories first
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.failed += len(failed)
	if len(ch.Entries) > 0 {
		l.first[ch.ID] = ch.Entries[0].Path
	}
	l.started[ch.ID] = kpi.Partition{ID: ch.ID, Entries: int64(len(ch.Entries)), Files: int64(ch.Files),
		Bytes: ch.Bytes, Start: time.Now()}
	l.mu.Unlock()
	t := Task{Run: l.runID, Job: l.e.o.Job, Chunk: ch.ID, Src: src, Dst: dst, Copy: l.copy}
	rels := make([]string, len(ch.Entries))
	size := 0
	for i := range ch.Entries {
		rels[i] = ch.Entries[i].Path
		size += len(rels[i])*4/3 + 4
	}
	if size > maxInline {
		t.List = l.j.chunkPath(ch.ID) // journaled above, kept until reported
	} else {
		t.Paths = bytesOf(rels)
	}
	if err := l.e.o.Queue.Publish(ctx, t); err != nil {
		return fmt.Errorf("publish chunk %d: %w", ch.ID, err)
	}
	return nil
}

// collect books completions until total, once known, have been reported.
func (l *leader) collect(ctx context.Context, total <-chan int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	comps := make(chan Completion)
	errc := make(chan error, 1)
	go func() {
		for {
			c, err := l.e.o.Queue.Completion(ctx)
			if errors.Is(err, ErrBadMessage) {
				l.e.o.Logger.Warn("a completion that can't be read: skipped", "err", err)
				continue
			}
			if err != nil {
				errc <- err
				return
			}
			select {
			case comps <- c:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	want, done := -1, map[int]bool{}
	for want < 0 || len(done) < want {
		select {
		case n := <-total:
			want = n
		case c := <-comps:
			if l.ended(c) {
				done[c.Chunk] = true
				if c.Fatal { // as a copier's fatal error stops a pass
					return fmt.Errorf("worker %s, chunk %d: %s", c.Worker, c.Chunk, c.Err)
				}
			}
		case err := <-errc:
			return fmt.Errorf("receive completions: %w", err)
		}
	}
	return nil
}

// ended journals and books a completion, and reports whether it was the
// chunk's first: a redelivered chunk may be reported twice.
func (l *leader) ended(c Completion) bool {
	l.mu.Lock()
	part, ok := l.started[c.Chunk]
	if c.Run != l.runID || !ok {
		l.mu.Unlock()
		l.e.o.Logger.Debug("completion ignored", "run", c.Run, "chunk", c.Chunk, "worker", c.Worker)
		if c.Run == l.runID {
			l.dropSums(c) // a chunk's second copy: its first's sums are in
		}
		return false
	}
	first := l.first[c.Chunk]
	delete(l.started, c.Chunk)
	delete(l.first, c.Chunk)
	nFailed := max(c.FailedTotal, int64(len(c.Failed)))
	if c.Err != "" {
		nFailed = part.Entries // directories among them: the leader made those, not their contents
	}
	l.failed += int(nFailed)
	l.mu.Unlock()
	l.takeSums(c)
	failed := paths(c.Failed)
	if err := l.j.done(c.Chunk, failed); err != nil {
		l.e.o.Logger.Warn("journal", "chunk", c.Chunk, "err", err)
	}
	part.End, part.Status, part.Attempts = time.Now(), kpi.StatusSuccess, c.Attempt
	if len(failed) > 0 {
		part.Status, part.Error = kpi.StatusPartial, failed[len(failed)-1]+": failed"
	}
	if c.Err != "" {
		msg := fmt.Sprintf("chunk %d not copied by worker %s: %s", c.Chunk, c.Worker, c.Err)
		part.Status, part.Error = kpi.StatusFailed, msg
		l.counters.AddErrors(kpi.ErrorCounts{Other: nFailed}, []kpi.ErrorRecord{{Path: first, Class: kpi.ClassOther, Message: msg}}, 0, nil)
		l.e.o.Logger.Error("a worker could not copy a chunk", "chunk", c.Chunk, "worker", c.Worker, "err", c.Err)
	}
	if n := len(c.Errors); n > 0 {
		part.Status, part.Error = kpi.StatusPartial, c.Errors[n-1].Message
	}
	kept := make([]kpi.ErrorRecord, len(c.Errors))
	for i, e := range c.Errors {
		kept[i] = e.record()
	}
	l.counters.AddErrors(c.ErrorCounts, kept, c.VanishedTotal, paths(c.Vanished))
	l.counters.AddWork(c.Files, c.Bytes)
	l.counters.AddPartition(part)
	return true
}

// taskCopy returns the copy options of o that workers need, with
// absolute paths (each host mounts the trees at the same places), and
// the inode number of the source src.
func taskCopy(o *Options, src string) (TaskCopy, error) {
	c := TaskCopy{Checksum: o.Checksum, NoXattrs: o.NoXattrs, HugeMin: o.HugeMin, HugeWorkers: o.HugeWorkers, HugePiece: o.HugePiece}
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil {
		return c, err
	}
	c.SrcIno = st.Ino
	for _, d := range o.LinkDest {
		abs, err := filepath.Abs(d)
		if err != nil {
			return c, err
		}
		c.LinkDest = append(c.LinkDest, abs)
	}
	if o.refGroups != nil && o.refGroupsFile != "" {
		abs, err := filepath.Abs(o.refGroupsFile)
		if err != nil {
			return c, err
		}
		c.RefGroups = abs
	}
	return c, nil
}
