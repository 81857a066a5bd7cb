package efsync

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"

	"github.com/efsync/efsync/internal/manifest"
	"golang.org/x/sync/errgroup"
)

// verifier checks entries of a tree against their manifest records.
type verifier struct {
	root     *treeRoot
	noXattrs bool
	d        *differences
	checked  atomic.Int64
}

// run calls feed, which passes the records to check, in order, to check;
// workers goroutines probe the tree for them meanwhile.
func (v *verifier) run(ctx context.Context, workers int, feed func(check func(*manifest.Record) error) error) error {
	jobs := make(chan manifest.Record, workers)
	g, gctx := errgroup.WithContext(ctx)
	for range max(workers, 1) {
		g.Go(func() error {
			buf := make([]byte, 1<<20)
			for want := range jobs {
				if err := v.entry(gctx, &want, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		return feed(func(want *manifest.Record) error {
			select {
			case jobs <- *want: // a copy: Join reuses its records
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	return g.Wait()
}

// entry checks one entry against its record want, reading through buf.
func (v *verifier) entry(ctx context.Context, want *manifest.Record, buf []byte) error {
	v.checked.Add(1)
	got, err := v.root.probe(ctx, want.Path, want.Type == manifest.TypeFile && want.HasHash, v.noXattrs, buf)
	if errors.Is(err, fs.ErrNotExist) {
		v.d.add(Difference{Path: want.Path, Kinds: []string{"missing"}})
		return nil
	}
	if err != nil {
		return err
	}
	if kinds := recordDiff(want, &got, v.noXattrs); len(kinds) > 0 {
		v.d.add(Difference{Path: want.Path, Kinds: kinds})
	}
	return nil
}

// recordDiff returns how got differs from want: the kinds of Difference.
// Content is compared when both hold a hash; xattrs unless noXattrs.
func recordDiff(want, got *manifest.Record, noXattrs bool) []string {
	if want.Type != got.Type {
		return []string{"type"}
	}
	var kinds []string
	add := func(differ bool, kind string) {
		if differ {
			kinds = append(kinds, kind)
		}
	}
	file := want.Type == manifest.TypeFile
	add(file && want.HasHash && got.HasHash && want.Hash != got.Hash, "content")
	add(file && want.Size != got.Size, "size")
	add(want.Mtime != got.Mtime, "mtime")
	add(want.Type != manifest.TypeSymlink && want.Mode != got.Mode, "mode")
	add(want.UID != got.UID, "owner")
	add(want.GID != got.GID, "group")
	add(want.Target != got.Target, "target")
	add(want.Rdev != got.Rdev, "device")
	add(!noXattrs && want.Xattrs != got.Xattrs, "xattrs")
	return kinds
}
