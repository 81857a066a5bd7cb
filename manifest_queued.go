package efsync

import (
	"context"
	"errors"
	"io"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sync/errgroup"
)

// With a queue, workers on other hosts copy a backup's files, and their
// copiers report nothing to the leader's manifest log: the leader only
// learns the paths it published (queued). Before the build, those are
// read back from the snapshot itself: the entry as it is there, and
// whether the backup wrote it, which for a snapshot linked from its
// parent is whether its inode is not the parent's. The build then takes
// the parent's hash of a linked file, and reads the others.

// queuedBatch is how many paths one restat of the snapshot takes.
const queuedBatch = 1024

// queued records a path the leader published for a worker to copy.
func (m *manifestLog) queued(rel string) {
	if err := m.queue.Add(manifest.Record{Path: rel}); err != nil {
		m.mu.Lock()
		m.err = errors.Join(m.err, err)
		m.mu.Unlock()
	}
}

// addQueued adds the entries of the queued paths as snapshot dir holds
// them, parent being the parent snapshot's tree ("" for none). An entry
// the snapshot lacks (it failed, or vanished from the source) is left
// out, as the copier's report leaves it out.
func (m *manifestLog) addQueued(ctx context.Context, dir, parent string, workers int) error {
	s, err := m.queue.Sort()
	if err != nil {
		return err
	}
	defer s.Close()
	batches := make(chan []string)
	g, gctx := errgroup.WithContext(ctx)
	for range max(workers, 1) {
		g.Go(func() error {
			for rels := range batches {
				if err := m.addBatch(dir, parent, rels); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(batches)
		var rels []string
		for {
			r, err := s.Next()
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if err == nil {
				rels = append(rels, r.Path)
			}
			if len(rels) == queuedBatch || (errors.Is(err, io.EOF) && len(rels) > 0) {
				select {
				case batches <- rels:
				case <-gctx.Done():
					return gctx.Err()
				}
				rels = nil
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
		}
	})
	return g.Wait()
}

// addBatch adds the entries rels of snapshot dir.
func (m *manifestLog) addBatch(dir, parent string, rels []string) error {
	entries, _, err := partition.Restat(dir, rels, true)
	if err != nil {
		return err
	}
	linked := parentInodes(parent, rels)
	for i := range entries {
		e := &entries[i]
		if e.Err != nil {
			continue
		}
		r := recordOf(e)
		var need uint32
		if r.Type == manifest.TypeFile {
			need |= needHash
		}
		if !m.noXattrs {
			need |= needXattrs
		}
		if err := m.recs.Add(r); err != nil {
			return err
		}
		if need != 0 {
			if err := m.todo.Add(manifest.Record{Path: r.Path, Mode: need}); err != nil {
				return err
			}
		}
		if linked[e.Path] != [2]uint64{e.Dev, e.Ino} {
			if err := m.wrote.Add(manifest.Record{Path: r.Path}); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentInodes returns the device and inode of each of rels in tree
// parent ("" for none), in one restat through directory fds: a path
// lookup each would cost a round trip per component on NFS.
func parentInodes(parent string, rels []string) map[string][2]uint64 {
	if parent == "" {
		return nil
	}
	entries, _, err := partition.Restat(parent, rels, false)
	if err != nil {
		return nil // no parent to compare with: every entry counts as written
	}
	out := make(map[string][2]uint64, len(entries))
	for i := range entries {
		if e := &entries[i]; e.Err == nil {
			out[e.Path] = [2]uint64{e.Dev, e.Ino}
		}
	}
	return out
}
