package testtree

import (
	"context"
	"testing"
)

// wantField is the difference each kind of change must show at its path.
var wantField = map[Kind]string{
	ContentSameSecond: "content", ContentSameMtime: "content", Resize: "size", Chmod: "mode", Chown: "uid",
	Touch: "mtime", TouchNs: "mtime", FileToDir: "type", FileToSymlink: "type", DirToFile: "type",
	DirToSymlink: "type", SymlinkToFile: "type", SymlinkToDir: "type", DeleteFile: "missing",
	DeleteTree: "missing", Rename: "missing", NewFile: "extra", NewHardLink: "links",
	SplitHardLink: "links", Append: "size", SetXattr: "xattr user.efsync-mutate",
}

func TestMutateMakesEveryKindAndCompareSeesIt(t *testing.T) {
	a, b := TempDir(t), TempDir(t)
	o := small(5)
	for _, d := range []string{a, b} {
		if _, err := Plan(o).Build(d); err != nil {
			t.Fatal(err)
		}
	}
	kinds := append(DefaultKinds(), ContentSameMtime)
	muts, err := Mutate(b, MutateOptions{Seed: 9, Percent: 10, Kinds: kinds, AppendSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := Compare(context.Background(), a, b, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := map[at]bool{}
	for _, d := range diffs {
		found[at{d.Path, d.Field}] = true
	}
	made := map[Kind]int{}
	for _, m := range muts {
		made[m.Kind]++
		if !found[at{m.Path, wantField[m.Kind]}] {
			t.Errorf("%s at %q: no %q difference", m.Kind, m.Path, wantField[m.Kind])
		}
		if m.To != "" && !found[at{m.To, "extra"}] {
			t.Errorf("%s: new name %q not reported as extra", m.Kind, m.To)
		}
	}
	for _, k := range kinds {
		if made[k] == 0 {
			t.Errorf("no %s made", k)
		}
	}
	entries := len(Plan(o).Entries)
	if len(muts) < entries/10 {
		t.Errorf("%d mutations for %d entries at 10%%", len(muts), entries)
	}
	t.Logf("%d mutations, %d diffs: %v", len(muts), len(diffs), made)
}

func TestMutateIsDeterministic(t *testing.T) {
	var runs [2][]Mutation
	for i := range runs {
		d := TempDir(t)
		if _, err := Plan(small(5)).Build(d); err != nil {
			t.Fatal(err)
		}
		m, err := Mutate(d, MutateOptions{Seed: 4, Percent: 5})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = m
	}
	if len(runs[0]) != len(runs[1]) {
		t.Fatalf("%d vs %d mutations", len(runs[0]), len(runs[1]))
	}
	for i := range runs[0] {
		if runs[0][i] != runs[1][i] {
			t.Errorf("mutation %d: %v vs %v", i, runs[0][i], runs[1][i])
		}
	}
}
