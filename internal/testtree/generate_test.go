package testtree

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// required lists the shapes every Small tree must hold, whatever the
// privileges: those needing root or file system support are checked apart.
var required = []Shape{
	ShapeFile, ShapeDir, ShapeDeepDir, ShapeBig, ShapeSparse, ShapeHugeSparse,
	ShapeSymlinkRelative, ShapeSymlinkAbsolute, ShapeSymlinkDangling, ShapeSymlinkToDir,
	ShapeHardLinkGroup, ShapeHardLinkDistant, ShapeFifo, ShapeSocket, ShapeEmptyDir, ShapeReadOnlyDir,
	ShapeNameSpace, ShapeNameNewline, ShapeNameNonUTF8, ShapeName255, ShapeNameDash,
	ShapeXattr, ShapeSetuid, ShapeSticky, ShapeNsMtimeFile, ShapeNsMtimeDir, ShapeNsMtimeSymlink,
}

func TestGenerateMakesEveryShape(t *testing.T) {
	dir := TempDir(t)
	made, err := Plan(Small(1)).Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := Observe(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// What is on disk is what Build says it made: no shape lost on the way.
	if d := cmp.Diff(made, seen); d != "" {
		t.Errorf("shapes made (-) vs found on disk (+):\n%s", d)
	}
	for _, s := range required {
		if seen[s] == 0 {
			t.Errorf("no %s in the tree", s)
		}
	}
	if seen[ShapeDeepDir] < 4 {
		t.Errorf("deep dirs = %d, want the chain to reach depth %d", seen[ShapeDeepDir], DeepDepth+3)
	}
	if os.Geteuid() == 0 {
		for _, s := range []Shape{ShapeOtherOwner, ShapeXattrTrusted} {
			if seen[s] == 0 {
				t.Errorf("running as root, but no %s in the tree", s)
			}
		}
	}
	// ACLs and devices depend on the file system and the sandbox: log them.
	t.Logf("acl=%d chardev=%d blockdev=%d; all: %v", seen[ShapeACL], seen[ShapeCharDev], seen[ShapeBlockDev], seen)
}

func TestPlanIsDeterministic(t *testing.T) {
	a, b := Plan(Small(7)), Plan(Small(7))
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same seed, different plans:\n%s", d)
	}
	if c := Plan(Small(8)); cmp.Equal(a, c) {
		t.Fatal("different seeds gave the same plan")
	}
}

func TestBuildTwiceCompareEqual(t *testing.T) {
	a, b := TempDir(t), TempDir(t)
	for _, d := range []string{a, b} {
		if _, err := Plan(Small(3)).Build(d); err != nil {
			t.Fatal(err)
		}
	}
	diffs, err := Compare(context.Background(), a, b, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
}
