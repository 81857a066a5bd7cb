package transfer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

// TestLinkDestSplitGroup links a new tree from a reference where a, b, c
// and d are one inode, from a source where that group has been split
// into {a, b}, {c, d}, and the lone files e and f of the same data and
// metadata. With RefGroups the new tree has the source's links exactly:
// a, b linked from the reference, c, d one new inode, e and f apart;
// without it, as with rsync, all six are the reference's inode.
func TestLinkDestSplitGroup(t *testing.T) {
	base := testtree.TempDir(t)
	src, ref := filepath.Join(base, "src"), filepath.Join(base, "ref")
	mkdirs(t, src, ref)
	names := []string{"a", "b", "c", "d", "e", "f"}
	buildTree(t, ref, faultDir("."), faultFile("a", 8<<10, 9))
	for _, n := range names[1:] {
		if err := os.Link(filepath.Join(ref, "a"), filepath.Join(ref, n)); err != nil {
			t.Fatal(err)
		}
	}
	buildTree(t, src, faultDir("."), faultFile("a", 8<<10, 9), faultFile("c", 8<<10, 9),
		faultFile("e", 8<<10, 9), faultFile("f", 8<<10, 9))
	for _, l := range [][2]string{{"a", "b"}, {"c", "d"}} {
		if err := os.Link(filepath.Join(src, l[0]), filepath.Join(src, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	inRef := map[string]bool{}
	for _, n := range names {
		inRef[n] = true
	}
	for _, bc := range []struct {
		name   string
		groups func(string) bool
	}{
		{"RefGroups", func(rel string) bool { return inRef[rel] }},
		{"rsync-like", nil},
	} {
		t.Run(bc.name, func(t *testing.T) {
			dst := filepath.Join(base, "dst-"+bc.name)
			mkdirs(t, dst)
			before := hashTree(t, ref)
			mustSync(t, src, dst, Options{LinkDest: []string{ref}, RefGroups: bc.groups})
			unchangedRef(t, ref, before)
			if bc.groups == nil {
				for _, n := range names {
					if !sameInode(t, filepath.Join(dst, n), filepath.Join(ref, n)) {
						t.Errorf("%s is not linked to the reference", n)
					}
				}
				return
			}
			exact(t, src, dst, compareOpts()) // links included
			if !sameInode(t, filepath.Join(dst, "a"), filepath.Join(ref, "a")) {
				t.Error("a, in a source group, is not linked to the reference")
			}
		})
	}
}
