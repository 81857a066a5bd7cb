package orchestratetest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// MemCatalog is an efsync.Catalog in memory. It is safe for concurrent
// use.
type MemCatalog struct {
	mu   sync.Mutex
	recs map[string]efsync.Record
}

var _ efsync.Catalog = (*MemCatalog)(nil)

// NewMemCatalog returns an empty catalog.
func NewMemCatalog() *MemCatalog { return &MemCatalog{recs: map[string]efsync.Record{}} }

// Put stores r under r.ID.
func (c *MemCatalog) Put(ctx context.Context, r efsync.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Phases = slices.Clone(r.Phases)
	c.recs[r.ID] = r
	return nil
}

// Get returns the record of id, or an error matching efsync.ErrNotFound.
func (c *MemCatalog) Get(ctx context.Context, id string) (efsync.Record, error) {
	if err := ctx.Err(); err != nil {
		return efsync.Record{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.recs[id]
	if !ok {
		return efsync.Record{}, fmt.Errorf("record %s: %w", id, efsync.ErrNotFound)
	}
	r.Phases = slices.Clone(r.Phases)
	return r, nil
}

// List returns every record, sorted by id.
func (c *MemCatalog) List(ctx context.Context) ([]efsync.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []efsync.Record
	for _, r := range c.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b efsync.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// MemLogs is an orchestrate.LogStore in memory. It is safe for concurrent
// use.
type MemLogs struct {
	mu   sync.Mutex
	logs map[string]*bytes.Buffer
}

// NewMemLogs returns an empty store.
func NewMemLogs() *MemLogs { return &MemLogs{logs: map[string]*bytes.Buffer{}} }

// Open returns a writer appending to the log of id.
func (l *MemLogs) Open(_ context.Context, id string) (io.WriteCloser, error) {
	return &memLog{l: l, id: id}, nil
}

// Where returns mem://id.
func (l *MemLogs) Where(id string) string { return "mem://" + id }

// Text returns the log of id.
func (l *MemLogs) Text(id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.logs[id]; b != nil {
		return b.String()
	}
	return ""
}

type memLog struct {
	l  *MemLogs
	id string
}

func (w *memLog) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if w.l.logs[w.id] == nil {
		w.l.logs[w.id] = &bytes.Buffer{}
	}
	return w.l.logs[w.id].Write(p)
}

func (w *memLog) Close() error { return nil }

// Recorder is an orchestrate.Notifier and orchestrate.Metrics that keeps
// what it gets. It is safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	notices   []orchestrate.Notice
	published []efsync.Record
}

// Notify keeps n.
func (r *Recorder) Notify(_ context.Context, n orchestrate.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	return nil
}

// Publish keeps rec.
func (r *Recorder) Publish(_ context.Context, rec efsync.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, rec)
	return nil
}

// Notices returns the notices so far, oldest first.
func (r *Recorder) Notices() []orchestrate.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notices)
}

// Published returns the records published so far, oldest first.
func (r *Recorder) Published() []efsync.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.published)
}
