package partition

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

// TestRestatListsAsTheCrawlDoes checks that Restat of every path a crawl
// listed gives the same entries, leaves out what vanished since, and
// never follows a symlink that replaced a directory.
func TestRestatListsAsTheCrawlDoes(t *testing.T) {
	root := testtree.TempDir(t)
	o := testtree.Small(3)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(root); err != nil {
		t.Fatal(err)
	}
	crawled := entries(walk(t, root, Options{ReadLinks: true}))
	rels := make([]string, len(crawled))
	for i := range crawled {
		rels[i] = crawled[i].Path
	}
	got, vanished, err := Restat(root, rels, true)
	if err != nil || len(vanished) > 0 {
		t.Fatalf("Restat: %v, vanished %q", err, vanished)
	}
	if len(got) != len(crawled) {
		t.Fatalf("Restat gave %d entries, the crawl %d", len(got), len(crawled))
	}
	for i := range got {
		g, w := got[i], crawled[i]
		g.Atime, w.Atime = 0, 0 // reading directories moves them
		if g.IsDir() {
			g.Mtime, w.Mtime = 0, 0
		}
		if g.Path != w.Path || g.Mode != w.Mode || g.Size != w.Size || g.Mtime != w.Mtime ||
			g.Ino != w.Ino || g.Target != w.Target || g.Err != nil {
			t.Errorf("Restat %+v, crawl %+v", g, w)
		}
	}

	// A directory replaced by a symlink to a tree with the same names.
	if err := os.MkdirAll(filepath.Join(root, "x/y"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x/y/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("x", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	got, vanished, _ = Restat(root, []string{"link/y/f", "x/y/f", "nope/f", "x/nope"}, false)
	// Opening "link" with O_NOFOLLOW|O_DIRECTORY says ENOTDIR: under
	// that path the source holds nothing now.
	if !slices.Equal(vanished, []string{"link/y/f", "nope/f", "x/nope"}) {
		t.Errorf("vanished = %q", vanished)
	}
	if len(got) != 1 || got[0].Err != nil || got[0].Path != "x/y/f" {
		t.Errorf("through a symlink: %+v", got)
	}
}
