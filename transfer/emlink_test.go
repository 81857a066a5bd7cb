package transfer

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// groupTree is a tree with one hard-link group of four names. Members
// are taken in path order: d/g2 anchors the group, then d/g3, e/g4, g1.
func groupTree() []testtree.Entry {
	return []testtree.Entry{faultDir("."), faultDir("d"), faultDir("e"),
		faultFile("g1", 40<<10, 7), {Path: "d/g2", Type: testtree.File, LinkOf: "g1"},
		{Path: "d/g3", Type: testtree.File, LinkOf: "g1"}, {Path: "e/g4", Type: testtree.File, LinkOf: "g1"}}
}

// emlinkInto fails every link whose new name is in the destination's
// directory dir with EMLINK, as an inode with 177 links does on EFS.
func emlinkInto(dir string) []latencyfs.Fault {
	return []latencyfs.Fault{{Op: "link", Path: "dst/" + dir + "/*", NewPath: true, Errno: syscall.EMLINK}}
}

// TestGroupEMLINK fails the link of d/g3 to its group's anchor, d/g2:
// d/g3 is copied instead and becomes the anchor of the members after it,
// e/g4 and g1. The run fails nothing, every file is exact but for its
// links, and a second run writes nothing.
func TestGroupEMLINK(t *testing.T) {
	backing, m := efsMount(t, latencyfs.Options{Faults: emlinkInto("d")})
	src, dst := testtree.TempDir(t), filepath.Join(backing, "dst")
	mkdirs(t, dst)
	buildTree(t, src, groupTree()...)
	for run := range 2 {
		if err := m.Reset(); err != nil {
			t.Fatal(err)
		}
		mustSync(t, src, filepath.Join(m.Dir(), "dst"), Options{})
		c, err := m.Counts()
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 && c.BytesWritten != 0 {
			t.Errorf("the second run wrote %d bytes, want 0", c.BytesWritten)
		}
		linkClasses(t, src, dst, [][]string{{"d/g2"}, {"d/g3", "e/g4", "g1"}})
	}
}

// TestLinkDestEMLINKInsideGroup links a hard-link group's anchor, d/g2,
// from a reference snapshot, with d/g3, then fails the link of e/g4 with
// EMLINK: e/g4 is copied and g1 linked to it, the run fails nothing, and
// the reference is left exactly as it was.
func TestLinkDestEMLINKInsideGroup(t *testing.T) {
	backing, m := efsMount(t, latencyfs.Options{Faults: emlinkInto("e")})
	src, ref, dst := testtree.TempDir(t), filepath.Join(backing, "ref"), filepath.Join(backing, "dst")
	mkdirs(t, ref, dst)
	buildTree(t, src, groupTree()...)
	mustSync(t, src, ref, Options{}) // in the backing directory: no fault
	before := hashTree(t, ref)
	mustSync(t, src, filepath.Join(m.Dir(), "dst"), Options{LinkDest: []string{filepath.Join(m.Dir(), "ref")}})
	if !sameInode(t, filepath.Join(dst, "d/g2"), filepath.Join(ref, "d/g2")) {
		t.Error("d/g2, the anchor, is not linked to the reference")
	}
	linkClasses(t, src, dst, [][]string{{"d/g2", "d/g3"}, {"e/g4", "g1"}})
	unchangedRef(t, ref, before)
	if tmp := tempFiles(t, backing); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}

// linkClasses fails t unless dst matches src but for hard links, and the
// names of each class are links to one inode, a different one per class.
func linkClasses(t *testing.T, src, dst string, classes [][]string) {
	t.Helper()
	diffs, err := testtree.Compare(context.Background(), src, dst, compareOpts())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Field != "links" {
			t.Errorf("comparator: %s", d)
		}
	}
	for i, c := range classes {
		for _, n := range c[1:] {
			if !sameInode(t, filepath.Join(dst, c[0]), filepath.Join(dst, n)) {
				t.Errorf("%s is not linked to %s", n, c[0])
			}
		}
		for _, o := range classes[i+1:] {
			if sameInode(t, filepath.Join(dst, c[0]), filepath.Join(dst, o[0])) {
				t.Errorf("%s and %s share an inode", c[0], o[0])
			}
		}
	}
}
