package benchkit

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

// SyncSetting is where a sync race runs: a source and a scratch directory
// for destinations, each as the tools see it and as it is stored. Behind
// latencyfs they differ: the tools go through the mount, while resets and
// exactness checks, untimed, work in the backing directory at disk speed
// (the mount is a passthrough, so the bytes checked are the bytes the
// tools wrote).
type SyncSetting struct {
	// config
	Tools        *SyncTools
	Src, SrcDisk string // the source: never written to
	View, Disk   string // the scratch directory
	// Wait, if not nil, runs before each timed run, after the reset: a
	// latencyfs Mount's WaitCache, so that every run starts cold.
	Wait        func()
	FpsyncFiles int  // fpsync -f; 0 for its default, 2000
	EfsyncN8    bool // also race efsync -n 8 on the full copy: fpsync's worker count
	// Compare is what Exact holds efsync's copies to; the zero value is
	// the strictest.
	Compare testtree.CompareOptions
	// NoXattrs leaves xattrs out of the changed case's mutations, for a
	// file system that has none.
	NoXattrs bool
}

// contender is one program in a race: run makes dst a copy of src.
type contender struct {
	name   string
	run    func(ctx context.Context, src, dst string) (rss int64, err error)
	efsync bool // its RSS is reported and its copy checked
}

// Run runs the three cases as sub-benchmarks: full, nochange, changed.
// Each builds its own trees in the scratch directory, so that any one can
// run alone (-bench Sync/local/changed), and removes them when it ends,
// so that the disk holds one case's copies at a time.
func (s *SyncSetting) Run(b *testing.B) {
	b.Run("full", s.full)
	b.Run("nochange", s.noChange)
	b.Run("changed", s.changed)
}

// full copies into a new empty directory each run; the previous run's
// copy is removed first (untimed) to keep the disk from filling.
func (s *SyncSetting) full(b *testing.B) {
	n := 0
	b.Cleanup(func() { removeTree(fmt.Sprintf("%s/full-%d", s.Disk, n)) })
	s.race(b, s.Src, s.SrcDisk, s.contenders(s.EfsyncN8), func() (string, error) {
		if n > 0 {
			if err := removeTree(fmt.Sprintf("%s/full-%d", s.Disk, n)); err != nil {
				return "", err
			}
		}
		n++
		rel := fmt.Sprintf("full-%d", n)
		return rel, os.Mkdir(s.Disk+"/"+rel, 0o755)
	})
}

// noChange syncs onto an exact copy, put back before each run in case a
// tool changed it (fpsync splits hard links); the floor races too.
func (s *SyncSetting) noChange(b *testing.B) {
	floor := contender{name: "floor", run: func(ctx context.Context, src, dst string) (int64, error) {
		for _, d := range []string{src, dst} {
			if _, err := StatWalk(ctx, d, 32); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}}
	b.Cleanup(func() { removeTree(s.Disk + "/same") })
	s.race(b, s.Src, s.SrcDisk, append(s.contenders(false), floor), func() (string, error) {
		return "same", Reset(b.Context(), s.SrcDisk, s.Disk+"/same")
	})
}

// changed mutates, once, a copy of the source (the source itself stays
// read-only) after keeping a pre-change copy, ref; before each run the
// destination is reset from ref. The change is BENCHMARKS.md's: 1% of the
// entries, every kind of change Mutate makes, then 4 MiB appended to 2
// big files.
func (s *SyncSetting) changed(b *testing.B) {
	ctx := b.Context()
	src, ref := s.Disk+"/msrc", s.Disk+"/ref"
	b.Cleanup(func() { removeTree(src); removeTree(ref); removeTree(s.Disk + "/mdst") })
	if err := Reset(ctx, s.SrcDisk, src); err != nil {
		b.Fatal(err)
	}
	if err := Reset(ctx, src, ref); err != nil {
		b.Fatal(err)
	}
	kinds := slices.DeleteFunc(testtree.DefaultKinds(), func(k testtree.Kind) bool {
		return k == testtree.Append || s.NoXattrs && k == testtree.SetXattr
	})
	muts, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 1, Percent: 1, Kinds: kinds})
	if err != nil {
		b.Fatal(err)
	}
	apps, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 2, Kinds: []testtree.Kind{testtree.Append, testtree.Append}, AppendSize: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("changed %d entries, appended 4 MiB to %d big files", len(muts), len(apps))
	s.race(b, s.View+"/msrc", src, s.contenders(false), func() (string, error) {
		return "mdst", Reset(ctx, ref, s.Disk+"/mdst")
	})
}

// contenders returns efsync (the agent's default -n), optionally efsync
// -n 8, rsync and fpsync.
func (s *SyncSetting) contenders(n8 bool) []contender {
	efsync := func(n int) func(ctx context.Context, src, dst string) (int64, error) {
		return func(ctx context.Context, src, dst string) (int64, error) { return s.Tools.Efsync(ctx, n, src, dst) }
	}
	c := []contender{{name: "efsync", run: efsync(0), efsync: true}}
	if n8 {
		c = append(c, contender{name: "efsync-n8", run: efsync(8), efsync: true})
	}
	fpsync := func(ctx context.Context, src, dst string) (int64, error) {
		_, err := s.Tools.Fpsync(ctx, s.FpsyncFiles, src, dst)
		return 0, err // the shell script's RSS, not its rsyncs': not worth reporting
	}
	return append(c, contender{name: "rsync", run: s.Tools.Rsync}, contender{name: "fpsync", run: fpsync})
}

// race runs every contender in turn, b.N times: prepare (untimed) gives
// the destination's name in the scratch directory, Wait waits out caches,
// the run is timed, and an efsync copy is then checked (untimed) against
// srcDisk. It reports efsync's ratios and peak RSS, and fails b if a copy
// is not exact.
func (s *SyncSetting) race(b *testing.B, src, srcDisk string, cs []contender, prepare func() (string, error)) {
	ctx := b.Context()
	r := NewRace(b)
	for b.Loop() {
		for _, c := range cs { // interleaved, so drift hits all alike
			rel, err := prepare()
			if err != nil {
				b.Fatalf("before %s: %v", c.name, err)
			}
			if s.Wait != nil {
				s.Wait()
			}
			r.Time(c.name, func() error {
				rss, err := c.run(ctx, src, s.View+"/"+rel)
				if c.efsync {
					r.RSS(c.name, rss)
				}
				return err
			})
			if !c.efsync {
				continue
			}
			if err := Exact(ctx, srcDisk, s.Disk+"/"+rel, s.Compare); err != nil {
				b.Fatalf("%s's copy is not exact: %v", c.name, err)
			}
		}
	}
	r.Report("efsync")
}

// removeTree removes root, read-only directories included. Errors are
// for the caller to judge: cleanups ignore them, as a TempDir would.
func removeTree(root string) error {
	testtree.MakeWritable(root)
	return os.RemoveAll(root)
}
