package partition

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// TestFileSetMatchesFpart checks that the paths listed equal those that
// `fpart -L -zz` lists for the same tree and patterns. fpart lists
// non-directories, and directories only when they are empty (-zz: or
// unreadable), so the walker's listing is reduced the same way.
func TestFileSetMatchesFpart(t *testing.T) {
	fpart := testenv.Tool(t, "fpart")
	tests := []struct {
		name   string
		tree   func(testing.TB) string
		filter Filter
		args   []string // the same patterns for fpart
	}{
		{"small", func(tb testing.TB) string { return build(tb, small(11)) }, Filter{}, nil},
		{"excludes", func(tb testing.TB) string { return build(tb, small(12)) },
			Filter{Exclude: []string{"*.dat", "d000003"}, ExcludeFold: []string{"NAMES", "*.TXT"}},
			[]string{"-x", "*.dat", "-x", "d000003", "-X", "NAMES", "-X", "*.TXT"}},
		{"includes", func(tb testing.TB) string { return build(tb, small(13)) },
			Filter{Include: []string{"*.dat", "empty*"}, IncludeFold: []string{"H*"}},
			[]string{"-y", "*.dat", "-y", "empty*", "-Y", "H*"}},
		{"both", func(tb testing.TB) string { return build(tb, small(14)) },
			Filter{Include: []string{"*.dat"}, Exclude: []string{"d00001*"}},
			[]string{"-y", "*.dat", "-x", "d00001*"}},
		{"snapshots", snapshotTree, Filter{SnapshotExcludes: true}, []string{"-x", ".zfs", "-x", ".snapshot*", "-x", ".ckpt"}},
		{"100k", bigTree, Filter{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.tree(t)
			want := fpartList(t, fpart, root, tt.args)
			got := asFpart(t, walk(t, root, Options{Walkers: 8, Filter: tt.filter}), tt.filter)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("fpart (-) vs Walker (+):\n%s", d)
			}
			t.Logf("%d paths", len(got))
		})
	}
}

// snapshotTree returns a Small tree with snapshot directories in it.
func snapshotTree(tb testing.TB) string {
	root := build(tb, small(15))
	for _, p := range []string{".zfs/snap/a", "names/.snapshot.1/b", "names/.snapshot/c", "d000001/.ckpt/d", "d000001/ckpt/e"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// fpartList runs fpart -L -zz on root and returns the paths it lists,
// relative to root, sorted.
func fpartList(t *testing.T, fpart, root string, args []string) []string {
	t.Helper()
	parts := filepath.Join(t.TempDir(), "part")
	args = append([]string{"-L", "-zz", "-f", "2000", "-0", "-o", parts}, args...)
	if out, err := exec.Command(fpart, append(args, root)...).CombinedOutput(); err != nil {
		t.Fatalf("fpart %q: %v\n%s", args, err, out)
	}
	files, err := filepath.Glob(parts + ".*")
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range bytes.Split(bytes.TrimSuffix(b, []byte{0}), []byte{0}) {
			rel, ok := strings.CutPrefix(string(p), root+"/")
			if !ok {
				rel = "."
			}
			list = append(list, rel)
		}
	}
	slices.Sort(list)
	return list
}

// asFpart returns the paths that fpart -zz would list of the walker's
// entries: the non-directories, and the directories with nothing listed
// in them that fpart's include patterns let through.
func asFpart(t *testing.T, chunks []Chunk, f Filter) []string {
	m, err := f.compile()
	if err != nil {
		t.Fatal(err)
	}
	all := entries(chunks)
	parents := map[string]bool{}
	for _, e := range all {
		parents[path.Dir(e.Path)] = true
	}
	var list []string
	for _, e := range all {
		switch {
		case !e.IsDir():
			list = append(list, e.Path)
		case e.Path != "." && !parents[e.Path] && (len(m.include) == 0 || anyMatch(m.include, path.Base(e.Path), e.Path)):
			list = append(list, e.Path)
		}
	}
	slices.Sort(list)
	return list
}
