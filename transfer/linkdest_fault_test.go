package transfer

import (
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// TestLinkDestEMLINK fails every link to two reference inodes, a single
// file and a hard-link group, with EMLINK, as EFS does at 177 links: those
// are copied, exactly and without error, and the other files are linked.
// The reference and the destination are both behind one latencyfs mount,
// so that links between them are possible; checks read the backing
// directory.
func TestLinkDestEMLINK(t *testing.T) {
	var faults []latencyfs.Fault
	for _, p := range []string{"ref/d/a", "ref/g1", "ref/d/g2"} {
		faults = append(faults, latencyfs.Fault{Op: "link", Path: p, Errno: syscall.EMLINK})
	}
	backing, m := efsMount(t, latencyfs.Options{Faults: faults})
	src, ref, dst := testtree.TempDir(t), filepath.Join(backing, "ref"), filepath.Join(backing, "dst")
	mkdirs(t, ref, dst)
	buildTree(t, src, linkTree()...)
	mustSync(t, src, ref, Options{}) // in the backing directory: no FUSE call
	before := hashTree(t, ref)

	mustSync(t, src, filepath.Join(m.Dir(), "dst"), Options{LinkDest: []string{filepath.Join(m.Dir(), "ref")}})
	copied := []string{"d/a", "g1", "d/g2"}
	for _, rel := range linkFiles {
		want := !slices.Contains(copied, rel)
		if got := sameInode(t, filepath.Join(dst, rel), filepath.Join(ref, rel)); got != want {
			t.Errorf("%s: linked to the reference = %v, want %v", rel, got, want)
		}
	}
	if c, err := m.Counts(); err != nil {
		t.Fatal(err)
	} else if c.Ops["link"] < int64(len(linkFiles)-1) {
		// d/a and the group's anchor tried and failed; the others linked.
		t.Errorf("%d link calls reached the file system, want at least %d", c.Ops["link"], len(linkFiles)-1)
	}
	if tmp := tempFiles(t, backing); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	unchangedRef(t, ref, before)
	exact(t, src, dst, compareOpts())
}
