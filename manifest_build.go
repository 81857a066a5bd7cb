package efsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/efsync/efsync/internal/manifest"
	"golang.org/x/sync/errgroup"
)

// build makes the manifest of snapshot id, whose tree is at dir, from the
// records collected and the manifest of its parent snapshot: a file whose
// content the copy did not read takes its parent's hash if its size and
// mtime are the parent's (the quick check the backup itself trusted: it
// is, most often, a link to the parent's inode), so that a backup with no
// change reads no file data. Only what neither tells is read from the
// snapshot, workers entries at once. Then it writes the list of entries
// the backup wrote.
func (m *manifestLog) build(ctx context.Context, repo, dir, id, parent string, workers int) (err error) {
	defer func() {
		if err != nil {
			m.abort()
		}
	}()
	if m.err != nil {
		return m.err
	}
	if err := os.MkdirAll(filepath.Dir(manifestPath(repo, id)), 0o700); err != nil {
		return err
	}
	parentTree := ""
	if parent != "" {
		parentTree = filepath.Join(filepath.Dir(dir), parent)
	}
	if err := m.addQueued(ctx, dir, parentTree, workers); err != nil {
		return err
	}
	recs, err := m.recs.Sort()
	if err != nil {
		return err
	}
	defer recs.Close()
	todo, err := m.todo.Sort()
	if err != nil {
		return err
	}
	defer todo.Close()
	sums, err := m.sums.Sort()
	if err != nil {
		return err
	}
	defer sums.Close()
	par, closePar, err := openParent(repo, parent)
	if err != nil {
		return err
	}
	defer closePar()
	root, err := openTreeRoot(dir)
	if err != nil {
		return err
	}
	defer root.close()
	w, err := manifest.Create(manifestPath(repo, id), manifest.Options{TempDir: os.TempDir()})
	if err != nil {
		return err
	}
	if err := m.fill(ctx, recs, todo, par, sums, root, w, workers); err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return m.writeWrote(repo, id)
}

// fill passes every record of recs to w, with what todo says it lacks
// taken from par, from the workers' sums, or read from the snapshot root.
func (m *manifestLog) fill(ctx context.Context, recs, todo, par, sums manifest.Stream, root *treeRoot, w *manifest.Writer, workers int) error {
	type job struct {
		r    manifest.Record
		need uint32
	}
	jobs := make(chan job)
	g, gctx := errgroup.WithContext(ctx)
	for range max(workers, 1) {
		g.Go(func() error {
			buf := make([]byte, 1<<20)
			for j := range jobs {
				got, err := root.probe(gctx, j.r.Path, j.need&needHash != 0, j.need&needXattrs == 0, buf)
				if err != nil {
					return fmt.Errorf("manifest: %w", err)
				}
				if j.need&needHash != 0 {
					j.r.Hash, j.r.HasHash = got.Hash, got.HasHash
				}
				if j.need&needXattrs != 0 {
					j.r.Xattrs = got.Xattrs
				}
				if err := w.Add(j.r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		t, p, ws := cursor{s: todo}, cursor{s: par}, cursor{s: sums}
		for {
			r, err := recs.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			var need uint32
			if tr, ok, err := t.find(r.Path); err != nil {
				return err
			} else if ok {
				need = tr.Mode
			}
			if need != 0 { // a worker's copy read it: the newest word
				sr, ok, err := ws.find(r.Path)
				if err != nil {
					return err
				}
				if ok {
					need = fromSum(&r, sr, need)
				}
			}
			if need&needHash != 0 {
				pr, ok, err := p.find(r.Path)
				if err != nil {
					return err
				}
				if ok && pr.Type == r.Type && pr.HasHash && pr.Size == r.Size && pr.Mtime == r.Mtime {
					r.Hash, r.HasHash = pr.Hash, true
					need &^= needHash
				}
			}
			if need == 0 {
				if err := w.Add(r); err != nil {
					return err
				}
				continue
			}
			select {
			case jobs <- job{r, need}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	return g.Wait()
}

// writeWrote writes the sorted list of the entries the backup wrote.
func (m *manifestLog) writeWrote(repo, id string) error {
	s, err := m.wrote.Sort()
	if err != nil {
		return err
	}
	defer s.Close()
	w, err := manifest.Create(wrotePath(repo, id), manifest.Options{TempDir: os.TempDir()})
	if err != nil {
		return err
	}
	for {
		r, err := s.Next()
		if errors.Is(err, io.EOF) {
			return w.Close()
		}
		if err == nil {
			err = w.Add(r)
		}
		if err != nil {
			w.Abort()
			return err
		}
	}
}

// cursor walks a sorted stream forward to the paths asked for, which
// come in the stream's order.
type cursor struct {
	s    manifest.Stream
	cur  manifest.Record
	have bool // cur holds a record not yet passed
	done bool
}

// find returns the record of path, if the stream has one.
func (c *cursor) find(path string) (manifest.Record, bool, error) {
	for !c.done {
		if !c.have {
			r, err := c.s.Next()
			if errors.Is(err, io.EOF) {
				c.done = true
				break
			}
			if err != nil {
				return manifest.Record{}, false, err
			}
			c.cur, c.have = r, true
		}
		switch d := manifest.Compare(c.cur.Path, path); {
		case d == 0:
			return c.cur, true, nil
		case d > 0:
			return manifest.Record{}, false, nil
		}
		c.have = false // behind: pass it
	}
	return manifest.Record{}, false, nil
}
