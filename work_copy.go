package efsync

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
	"golang.org/x/sys/unix"
)

// copyTask copies the entries rels of t as they are now, but its
// directories: the leader made them, counts them, and sets their
// metadata once every chunk is in. It returns the entries that failed,
// what the copy counted, and the name of its sums file, if t asks for
// one.
func copyTask(ctx context.Context, t Task, rels []string, o *Options, workers int, refs *refGroupsCache) (failed []string, rep kpi.Report, sums string, err error) {
	if err := sameSource(t); err != nil {
		return nil, rep, "", err
	}
	all, vanished, err := partition.Restat(t.Src, rels, true)
	if err != nil {
		return nil, rep, "", err
	}
	counters := kpi.New(kpi.Options{RunID: t.Run, Source: t.Src, Destination: t.Dst})
	for _, rel := range vanished { // gone since the leader's crawl
		counters.Vanished(rel)
	}
	entries := all[:0]
	for _, e := range all {
		if !e.IsDir() || e.Err != nil {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil, counters.Report(), "", nil // the copier sends no Result for an empty chunk
	}
	to := transfer.Options{Workers: workers, NoXattrs: o.NoXattrs || t.Copy.NoXattrs, Reporter: counters, Logger: o.Logger,
		LinkDest: t.Copy.LinkDest}
	to.Checksum = t.Copy.Checksum || o.Checksum
	to.HugeMin, to.HugeWorkers, to.HugePiece = t.Copy.HugeMin, t.Copy.HugeWorkers, t.Copy.HugePiece
	if t.Copy.RefGroups != "" {
		groups, err := refs.get(t.Copy.RefGroups)
		if err != nil {
			return nil, rep, "", err
		}
		to.RefGroups = func(rel string) bool { return groups[rel] }
	}
	var sw *sumsWriter
	if t.Copy.Sums != "" {
		if sw, err = newSumsWriter(t.Copy.Sums, t.Chunk); err != nil {
			return nil, rep, "", err
		}
		defer func() {
			if err != nil {
				sw.abort()
			}
		}()
		to.Hash, to.OnDone = true, sw.onDone
	}
	c, err := transfer.New(ctx, t.Src, t.Dst, to)
	if err != nil {
		return nil, rep, "", err
	}
	defer c.Close()
	in, out := make(chan partition.Chunk, 1), make(chan transfer.Result, 1)
	in <- partition.Chunk{ID: t.Chunk, Entries: entries}
	close(in)
	if err := c.Run(ctx, in, out); err != nil {
		return nil, rep, "", err
	}
	var r transfer.Result
	select {
	case r = <-out:
	default:
		return nil, rep, "", errors.New("copier ended without a result")
	}
	if sw != nil {
		if sums, err = sw.close(); err != nil {
			return nil, rep, "", err
		}
	}
	return r.Failed, counters.Report(), sums, nil
}

// sameSource refuses t unless its Src is the tree the leader crawled, by
// its root's inode number (see TaskCopy.SrcIno).
func sameSource(t Task) error {
	if t.Copy.SrcIno == 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(t.Src, &st); err != nil {
		return fmt.Errorf("%w %s: %w", ErrUnsafeSource, t.Src, err)
	}
	if st.Ino != t.Copy.SrcIno {
		return fmt.Errorf("%w %s: inode %d, the leader's is %d: another tree here (not mounted?)", ErrUnsafeSource, t.Src, st.Ino, t.Copy.SrcIno)
	}
	return nil
}

// refGroupsCache keeps the reference's hard-link group members that a
// worker read last: every task of a run names the same file.
type refGroupsCache struct {
	mu     sync.Mutex // tasks run at once
	path   string
	groups map[string]bool
}

// get returns the members listed in path.
func (c *refGroupsCache) get(path string) (map[string]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups != nil && c.path == path {
		return c.groups, nil
	}
	rels, err := readList(path)
	if err != nil {
		return nil, fmt.Errorf("reference groups: %w", err)
	}
	c.path, c.groups = path, make(map[string]bool, len(rels))
	for _, r := range rels {
		c.groups[r] = true
	}
	return c.groups, nil
}
