package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// joinLog runs Join and describes each call: "a:p", "b:p" or "ab:p".
func joinLog(a, b Stream) ([]string, error) {
	var log []string
	err := Join(a, b, func(ra, rb *Record) error {
		switch {
		case ra != nil && rb != nil:
			if ra.Path != rb.Path {
				return fmt.Errorf("paired %q with %q", ra.Path, rb.Path)
			}
			log = append(log, "ab:"+ra.Path)
		case ra != nil:
			log = append(log, "a:"+ra.Path)
		case rb != nil:
			log = append(log, "b:"+rb.Path)
		default:
			return errors.New("called with two nils")
		}
		return nil
	})
	return log, err
}

func paths(ps ...string) []Record {
	var recs []Record
	for _, p := range ps {
		recs = append(recs, Record{Path: p})
	}
	return recs
}

func TestJoin(t *testing.T) {
	tests := []struct {
		name string
		a, b []Record
		want []string
	}{
		{name: "both empty"},
		{name: "a empty", b: paths(".", "x"), want: []string{"b:.", "b:x"}},
		{name: "b empty", a: paths(".", "x"), want: []string{"a:.", "a:x"}},
		{name: "same", a: paths(".", "a", "a/b"), b: paths(".", "a", "a/b"),
			want: []string{"ab:.", "ab:a", "ab:a/b"}},
		{name: "interleaved", a: paths("a", "a/b", "c"), b: paths("a/b", "a.b", "d"),
			want: []string{"a:a", "ab:a/b", "b:a.b", "a:c", "b:d"}},
		{name: "a runs out first", a: paths("a"), b: paths("a", "b", "c"),
			want: []string{"ab:a", "b:b", "b:c"}},
		{name: "b runs out first", a: paths("a", "b", "c"), b: paths("b"),
			want: []string{"a:a", "ab:b", "a:c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := joinLog(SliceStream(tt.a), SliceStream(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJoinManifests joins two files: the previous snapshot and one that lost
// and gained entries, and takes the hashes of the unchanged files from the
// previous one.
func TestJoinManifests(t *testing.T) {
	prevRecs := sorted(genRecords(2000, 10))
	var curRecs []Record
	for i, r := range prevRecs {
		if i%10 == 3 {
			continue // lost
		}
		r.Hash, r.HasHash = [16]byte{}, false
		curRecs = append(curRecs, r)
	}
	curRecs = append(curRecs, Record{Path: "new/file", Type: TypeFile})
	prev := writeManifest(t, t.TempDir(), prevRecs, Options{MaxRecords: 300})
	cur := writeManifest(t, t.TempDir(), curRecs, Options{MaxRecords: 300})
	ra, rb := openT(t, prev), openT(t, cur)

	var lost, gained, filled int
	err := Join(ra, rb, func(a, b *Record) error {
		switch {
		case b == nil:
			lost++
		case a == nil:
			gained++
		case a.HasHash && a.Size == b.Size && a.Mtime == b.Mtime:
			b.Hash, b.HasHash = a.Hash, true
			filled++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFilled := 0
	for i, r := range prevRecs {
		if i%10 != 3 && r.HasHash {
			wantFilled++
		}
	}
	if lost != 200 || gained != 1 || filled != wantFilled {
		t.Errorf("lost %d gained %d filled %d, want 200, 1, %d", lost, gained, filled, wantFilled)
	}
}

func openT(t *testing.T, name string) *Reader {
	t.Helper()
	r, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestJoinErrors(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Join(SliceStream(paths("a", "b")), SliceStream(nil), func(ra, rb *Record) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("fn's error: Join = %v after %d calls, want stop after 1", err, n)
	}

	_, err = joinLog(SliceStream(paths("a")), SliceStream(paths("b", "a")))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "stream b") {
		t.Errorf("unsorted b: Join = %v, want ErrCorrupt naming stream b", err)
	}

	boom := errors.New("boom")
	r := openT(t, writeManifest(t, t.TempDir(), paths("a", "b", "c"), Options{}))
	_, err = joinLog(r, &failAfter{n: 1, err: boom})
	if !errors.Is(err, boom) {
		t.Errorf("failing stream: Join = %v, want its error", err)
	}
}

// failAfter is a Stream of n records "p0", "p1"… then err.
type failAfter struct {
	i, n int
	err  error
}

func (f *failAfter) Next() (Record, error) {
	if f.i >= f.n {
		return Record{}, f.err
	}
	f.i++
	return Record{Path: fmt.Sprintf("p%d", f.i)}, nil
}
