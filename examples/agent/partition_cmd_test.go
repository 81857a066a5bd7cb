package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// tree makes a small tree and returns its path and every path the
// partitions must list, as printed.
func tree(t *testing.T) (string, []string) {
	root := t.TempDir()
	rels := []string{"a/1", "a/2", "a/b/3", "c/new\nline", "d", "e/"}
	want := []string{root}
	for _, rel := range rels {
		p := filepath.Join(root, rel)
		if strings.HasSuffix(rel, "/") {
			p += "/."
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(rel, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"a", "a/1", "a/2", "a/b", "a/b/3", "c", "c/new\nline", "d", "e"} {
		want = append(want, root+"/"+rel)
	}
	slices.Sort(want)
	return root, want
}

// records splits out into records ending with term and returns, for each,
// its part and path; with parts false, records are paths alone.
func records(t *testing.T, out string, term string, parts bool) (ids []int, paths []string) {
	t.Helper()
	for _, r := range strings.SplitAfter(out, term) {
		if r == "" {
			continue
		}
		r = strings.TrimSuffix(r, term)
		if !parts {
			paths = append(paths, r)
			continue
		}
		f := strings.SplitN(r, "\t", 3)
		id, err := strconv.Atoi(f[0])
		if len(f) != 3 || err != nil {
			t.Fatalf("bad record %q", r)
		}
		ids, paths = append(ids, id), append(paths, f[2])
	}
	slices.Sort(paths)
	return ids, paths
}

func TestPartitionPrints(t *testing.T) {
	root, want := tree(t)
	tests := []struct {
		name     string
		args     []string
		term     string
		maxPer   int // most records with one ID
		maxParts int
	}{
		{"defaults", nil, "\x00", 10, 1},
		{"-f 2", []string{"-f", "2"}, "\x00", 2, 5},
		{"-s 5", []string{"-s", "5", "-n", "1"}, "\x00", 10, 10},
		{"--parts 3", []string{"--parts", "3"}, "\x00", 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := agent(append(append([]string{"partition", "-0"}, tt.args...), root)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			ids, paths := records(t, stdout, tt.term, true)
			if d := cmp.Diff(want, paths); d != "" {
				t.Errorf("paths (-want +got):\n%s", d)
			}
			per := map[int]int{}
			for _, id := range ids {
				per[id]++
				if per[id] > tt.maxPer || id >= tt.maxParts {
					t.Errorf("part %d: %d records; want at most %d in each of %d", id, per[id], tt.maxPer, tt.maxParts)
				}
			}
		})
	}
}

func TestPartitionWritesPartFiles(t *testing.T) {
	root, want := tree(t)
	for _, nul := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "parts")
		args, term := []string{"partition", "-f", "3", "-o", dir}, "\n"
		if nul {
			args, term = append(args, "-0"), "\x00"
		}
		if code, stdout, stderr := agent(append(args, root)...); code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "part.*"))
		var all string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all += string(b)
		}
		_, paths := records(t, all, term, false)
		want := want
		if !nul { // the newline in a name splits it, as it does for fpart
			want = slices.DeleteFunc(slices.Clone(want), func(p string) bool { return strings.Contains(p, "\n") })
			paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "/c/new") || p == "line" })
		}
		if d := cmp.Diff(want, paths); d != "" || len(files) != 4 {
			t.Errorf("%d part files; paths (-want +got):\n%s", len(files), d)
		}
		if code, _, stderr := agent(append(args, root)...); code != 1 || !strings.Contains(stderr, "part.0: file exists") {
			t.Errorf("second run into the same DIR: exit %d, %q; want 1 and a refusal", code, stderr)
		}
	}
}

func TestPartitionBadInput(t *testing.T) {
	root, _ := tree(t)
	tests := []struct {
		name   string
		args   []string
		stderr string // the start of the error
	}{
		{"missing SRC", []string{root + "/missing"}, "partition: open " + root + "/missing: no such file or directory\n"},
		{"SRC a file", []string{root + "/d"}, "partition: open " + root + "/d: not a directory\n"},
		{"no SRC", nil, "partition: missing SRC"},
		{"two SRC", []string{root, root}, "partition: one SRC wanted, got 2"},
		{"flag after SRC", []string{root, "-f", "2"}, "partition: flag -f after SRC: flags go before SRC\n"},
		{"unknown flag", []string{"-zz", root}, "flag provided but not defined: -zz\nusage: agent partition"},
		{"bad size", []string{"-s", "4Q", root}, "invalid value \"4Q\" for flag -s: size \"4Q\""},
		{"zero files", []string{"-f", "0", root}, "partition: -f 0: want a positive count, or -1\n"},
		{"no walkers", []string{"-n", "0", root}, "partition: -n 0: want at least 1 walker\n"},
		{"bad pattern", []string{"-x", "[", root}, "partition: partition: pattern \"[\": syntax error in pattern\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := agent(append([]string{"partition"}, tt.args...)...)
			if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, tt.stderr)
			}
			if strings.HasSuffix(tt.stderr, "\n") && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line", stderr)
			}
		})
	}
}

func TestPartitionUnreadableDirectory(t *testing.T) {
	if testenv.Root() {
		t.Skip("skipped: root reads a directory of mode 000 (partition's own tests run as nobody)")
	}
	root, _ := tree(t)
	if err := os.Chmod(filepath.Join(root, "a"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(root, "a"), 0o755)
	code, stdout, stderr := agent("partition", root)
	if code != 2 || stderr != "partition: "+root+"/a: open: permission denied\n" || !strings.Contains(stdout, root+"/a\n") {
		t.Errorf("exit %d, stderr %q; want 2 and the error naming the path", code, stderr)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512", 512, true}, {"64K", 64 << 10, true}, {"64k", 64 << 10, true}, {"4G", 4 << 30, true},
		{"1T", 1 << 40, true}, {"-1", -1, true}, {"0", 0, false}, {"K", 0, false}, {"4Q", 0, false},
		{"-5", 0, false}, {"9999999999T", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
