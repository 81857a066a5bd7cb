package manifest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSorterPaths sorts path-only records, as a crawl's, with room for 50.
func TestSorterPaths(t *testing.T) {
	var want []string
	for i := range 3000 {
		want = append(want, fmt.Sprintf("dir%d/%d", i%17, i))
	}
	shuffled := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	tmp := t.TempDir()
	s := NewSorter(Options{MaxRecords: 50, TempDir: tmp})
	for _, p := range shuffled {
		if err := s.Add(Record{Path: p}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Path)
	}
	slices.SortFunc(want, Compare)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if left := dirNames(t, tmp); len(left) != 0 {
		t.Errorf("run files left: %v", left)
	}
	if _, err := s.Sort(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Sort = %v, want ErrClosed", err)
	}
}
