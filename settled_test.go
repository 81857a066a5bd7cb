package efsync

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"golang.org/x/sys/unix"
)

// TestSettledRunsReadNoXattrsAndMissNothing counts, at the file system,
// the xattr reads of runs with no change: after a run that ended with
// every entry equal, the next reads none of the entries that neither side
// changed since that run began (so not those it wrote itself), yet an
// xattr changed on either side is found and made right, and FullCheck
// reads them all again.
func TestSettledRunsReadNoXattrsAndMissNothing(t *testing.T) {
	backing := testtree.TempDir(t)
	bsrc, bdst := filepath.Join(backing, "src"), filepath.Join(backing, "dst")
	must(t, os.Mkdir(bsrc, 0o755))
	o := testtree.Small(9)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(bsrc); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	src, dst, state := m.Dir()+"/src", m.Dir()+"/dst", t.TempDir()
	entries := int64(0)
	run := func(name string, opts ...Option) int64 {
		t.Helper()
		must(t, m.Reset())
		rep, err := Sync(context.Background(), src, dst, append(opts, Delete(), StateDir(state))...)
		if err != nil || rep.Status != kpi.StatusSuccess {
			t.Fatalf("%s: %v %s", name, err, rep.Status)
		}
		entries = rep.Scanned.Total()
		c, err := m.Counts()
		must(t, err)
		exactCopy(t, bsrc, bdst)
		return c.Ops["listxattr"]
	}
	first := run("first run: copies everything")
	second := run("second run: what the first wrote changed after it began")
	third := run("third run: settled by the second")
	if first < entries || second < entries || third > entries/10 {
		t.Errorf("listxattr calls over %d entries: %d, %d, %d; want every entry twice, then almost none",
			entries, first, second, third)
	}

	// An xattr added at the source, and one added at the destination: both
	// move a ctime, so both entries are read and made right.
	f := filepath.Join(bsrc, firstFile(t, bsrc))
	must(t, unix.Setxattr(f, "user.new", []byte("1"), 0))
	g := filepath.Join(bdst, firstFile(t, bdst))
	must(t, unix.Setxattr(g, "user.stray", []byte("x"), 0))
	run("after xattr changes") // exactCopy checks both

	if full := run("full check", func(o *Options) { o.FullCheck = true }); full < entries {
		t.Errorf("FullCheck made %d listxattr calls over %d entries", full, entries)
	}
}

// firstFile returns the relative path of a regular file under root.
func firstFile(t *testing.T, root string) string {
	t.Helper()
	var found string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && found == "" && d.Type().IsRegular() {
			found, _ = filepath.Rel(root, p)
		}
		return nil
	})
	if found == "" {
		t.Fatal("no regular file")
	}
	return found
}
