package partition

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// items regroups the entries of c into the items the assembler placed: one
// per entry, or one per hard-link group.
func items(c Chunk) []item {
	var its []item
	groups := map[devIno]int{}
	for _, e := range c.Entries {
		if !e.linked() {
			its = append(its, one(e))
			continue
		}
		k := devIno{e.Dev, e.Ino}
		if i, ok := groups[k]; ok {
			its[i].group = append(its[i].group, e)
			continue
		}
		groups[k] = len(its)
		its = append(its, item{group: []Entry{e}, bytes: e.bytes()})
	}
	return its
}

// checkChunks checks what every run must give: IDs in order, counts that
// add up, hard-link groups in one chunk each, and, in live mode, the
// limits held by every chunk but one of a single item.
func checkChunks(t *testing.T, chunks []Chunk, opt Options) {
	t.Helper()
	opt.applyDefaults()
	home := map[devIno]int{} // chunk of each hard-link group
	for i, c := range chunks {
		if c.ID != i {
			t.Errorf("chunk %d has ID %d", i, c.ID)
		}
		its := items(c)
		var bytes, cost int64
		for _, it := range its {
			bytes += it.bytes
			cost += it.cost(opt.EntryCost)
			if it.group == nil {
				continue
			}
			k := devIno{it.group[0].Dev, it.group[0].Ino}
			if h, ok := home[k]; ok {
				t.Errorf("hard-link group of %q split between chunks %d and %d", it.group[0].Path, h, c.ID)
			}
			home[k] = c.ID
		}
		if c.Files != len(c.Entries) || c.Bytes != bytes || c.Cost != cost {
			t.Errorf("chunk %d: Files %d Bytes %d Cost %d, want %d %d %d",
				c.ID, c.Files, c.Bytes, c.Cost, len(c.Entries), bytes, cost)
		}
		if opt.Parts > 0 || len(its) == 1 {
			continue // a single item may exceed the limits
		}
		if (opt.MaxFiles > 0 && c.Files > opt.MaxFiles) || (opt.MaxBytes > 0 && c.Bytes > opt.MaxBytes) {
			t.Errorf("chunk %d: %d files, %d bytes: over the limits %d, %d", c.ID, c.Files, c.Bytes, opt.MaxFiles, opt.MaxBytes)
		}
	}
}

func TestLiveLimits(t *testing.T) {
	tests := []struct {
		name string
		tree func(testing.TB) string
		opt  Options
	}{
		{"small/files", func(tb testing.TB) string { return build(tb, small(1)) }, Options{MaxFiles: 10}},
		{"small/bytes", func(tb testing.TB) string { return build(tb, small(2)) }, Options{MaxBytes: 64 << 10}},
		{"small/both", func(tb testing.TB) string { return build(tb, small(3)) }, Options{MaxFiles: 3, MaxBytes: 100 << 10, Walkers: 2}},
		{"small/one per chunk", func(tb testing.TB) string { return build(tb, small(4)) }, Options{MaxFiles: 1}},
		{"small/no limit", func(tb testing.TB) string { return build(tb, small(5)) }, Options{MaxFiles: -1, MaxBytes: -1}},
		{"100k/defaults", bigTree, Options{}},
		{"100k/1 MiB", bigTree, Options{MaxBytes: 1 << 20, Walkers: 32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.tree(t)
			tt.opt.ReadLinks = true // for checkAll
			chunks := walk(t, root, tt.opt)
			checkAll(t, root, chunks)
			checkChunks(t, chunks, tt.opt)
			t.Logf("%d chunks", len(chunks))
		})
	}
}

func TestOversizedFileAlone(t *testing.T) {
	root := build(t, small(7)) // holds 1-3 MiB files and an 8 MiB sparse file
	opt := Options{MaxBytes: 512 << 10, MaxFiles: 100}
	chunks := walk(t, root, opt)
	checkChunks(t, chunks, opt)
	alone := 0
	for _, c := range chunks {
		if c.Bytes > opt.MaxBytes {
			alone++
			if len(items(c)) != 1 {
				t.Errorf("chunk %d over MaxBytes with %d items", c.ID, len(items(c)))
			}
		}
	}
	if alone == 0 {
		t.Error("no oversized file in a chunk of its own")
	}
}

func TestPartsBalanced(t *testing.T) {
	for _, k := range []int{1, 7, 64} {
		for _, tree := range []string{"small", "100k"} {
			t.Run(fmt.Sprintf("%s/%d", tree, k), func(t *testing.T) {
				root := ""
				if tree == "100k" {
					root = bigTree(t)
				} else {
					root = build(t, small(int64(k)))
				}
				opt := Options{Parts: k, Walkers: 8, ReadLinks: true}
				chunks := walk(t, root, opt)
				if len(chunks) != k {
					t.Fatalf("%d chunks, want %d", len(chunks), k)
				}
				checkAll(t, root, chunks)
				checkChunks(t, chunks, opt)
				checkBalance(t, chunks, DefaultEntryCost)
			})
		}
	}
}

// checkBalance checks that chunk costs differ by at most the largest cost
// of a single item.
func checkBalance(t *testing.T, chunks []Chunk, entryCost int64) {
	t.Helper()
	lo, hi, largest := chunks[0].Cost, chunks[0].Cost, int64(0)
	for _, c := range chunks {
		lo, hi = min(lo, c.Cost), max(hi, c.Cost)
		for _, it := range items(c) {
			largest = max(largest, it.cost(entryCost))
		}
	}
	if hi-lo > largest {
		t.Errorf("costs from %d to %d: differ by %d, more than the largest item's %d", lo, hi, hi-lo, largest)
	}
	t.Logf("costs %d..%d, largest item %d", lo, hi, largest)
}

func TestHardLinkGroupWithLinksOutside(t *testing.T) {
	root := declared(t, "a/", "b/", "c", "d", "e", "f")
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/link1", "b/link2"} { // nlink 3, 2 in the tree
		if err := os.Link(outside, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	opt := Options{MaxFiles: 2, Walkers: 4}
	chunks := walk(t, root, opt)
	checkChunks(t, chunks, opt)
	var in []int
	var bytes int64
	for _, c := range chunks {
		for _, e := range c.Entries {
			if strings.HasPrefix(path.Base(e.Path), "link") {
				in = append(in, c.ID)
			}
		}
		bytes += c.Bytes
	}
	if len(in) != 2 || in[0] != in[1] {
		t.Errorf("links in chunks %v, want both in one", in)
	}
	if bytes != 4*10+1000 {
		t.Errorf("%d bytes in all, want %d: the group counted once", bytes, 4*10+1000)
	}
}

func TestBalance(t *testing.T) {
	file := func(p string, size int64) item {
		return one(Entry{Path: p, Mode: unix.S_IFREG | 0o644, Size: size})
	}
	tests := []struct {
		name  string
		items []item
		k     int
		want  [][]string
	}{
		{"fewer items than parts", []item{file("a", 5)}, 3, [][]string{{"a"}, nil, nil}},
		{"largest first", []item{file("a", 1), file("b", 10), file("c", 6), file("d", 5)}, 2,
			[][]string{{"a", "b"}, {"c", "d"}}}, // 10+1, 6+5
		{"ties by path", []item{file("b", 3), file("a", 3), file("c", 3)}, 2, [][]string{{"a", "c"}, {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			for _, c := range balance(tt.items, tt.k, 0) {
				var paths []string
				for _, e := range c.Entries {
					paths = append(paths, e.Path)
				}
				got = append(got, paths)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("balance (-want +got):\n%s", d)
			}
		})
	}
}
