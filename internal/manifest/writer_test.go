package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTripEveryType(t *testing.T) {
	hash := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	xattrs := XattrHash(map[string][]byte{"user.x": []byte("y")})
	recs := []Record{
		{Path: ".", Type: TypeDir, Mode: 0o1777, UID: 0, GID: 0, Size: 4096, Mtime: 1_700_000_000_123_456_789},
		{Path: "file", Type: TypeFile, Mode: 0o4755, UID: 1000, GID: 1000, Size: 1 << 40, Mtime: -1, Hash: hash, HasHash: true, Xattrs: xattrs},
		{Path: "zero-hash", Type: TypeFile, Mode: 0o644, HasHash: true}, // the zero digest is a digest
		{Path: "unhashed", Type: TypeFile, Mode: 0o600, Size: 12},
		{Path: "link", Type: TypeSymlink, Mode: 0o777, Size: 9, Target: "../x/é\x01y"},
		{Path: "tty", Type: TypeCharDev, Mode: 0o620, GID: 5, Rdev: 0x8800_0001},
		{Path: "sda", Type: TypeBlockDev, Mode: 0o660, GID: 6, Rdev: 1<<64 - 1},
		{Path: "pipe", Type: TypeFIFO, Mode: 0o600, UID: 1<<32 - 1, GID: 1<<32 - 1},
		{Path: "sock", Type: TypeSocket, Mode: 0o755},
		{Path: "odd", Type: TypeUnknown},
		{Path: "dir/with space/and\nnewline/\xff", Type: TypeFile, Mtime: 1<<63 - 1, Size: -1},
	}
	name := writeManifest(t, t.TempDir(), recs, Options{})
	if diff := cmp.Diff(sorted(recs), readFile(t, name)); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriterEmpty(t *testing.T) {
	name := writeManifest(t, t.TempDir(), nil, Options{})
	if got := readFile(t, name); len(got) != 0 {
		t.Errorf("empty manifest reads %d records", len(got))
	}
}

// TestWriterSpillsOutOfOrder adds 10k shuffled records with room for 100:
// 100 runs, merged 4 at a time before the final merge.
func TestWriterSpillsOutOfOrder(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
	}{
		{name: "one merge", opt: Options{MaxRecords: 100}},
		{name: "merge passes", opt: Options{MaxRecords: 100, FanIn: 4}},
		{name: "level 9", opt: Options{MaxRecords: 1000, Level: 9}},
		{name: "no sync", opt: Options{MaxRecords: 1000, NoSync: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			tt.opt.TempDir = tmp
			recs := genRecords(10_000, 1)
			name := writeManifest(t, dir, recs, tt.opt)
			if diff := cmp.Diff(sorted(recs), readFile(t, name)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if left := dirNames(t, tmp); len(left) != 0 {
				t.Errorf("run files left: %v", left)
			}
			if diff := cmp.Diff([]string{"manifest"}, dirNames(t, dir)); diff != "" {
				t.Errorf("output dir (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriterConcurrentAdd(t *testing.T) {
	recs := genRecords(20_000, 2)
	dir := t.TempDir()
	name := filepath.Join(dir, "manifest")
	w, err := Create(name, Options{MaxRecords: 500})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			for j := i; j < len(recs); j += workers {
				if err := w.Add(recs[j]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sorted(recs), readFile(t, name)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestWriterDuplicates: the record added last wins, whether the earlier one
// is in the same buffer, an older run, or a run merged in an earlier pass.
func TestWriterDuplicates(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
	}{
		{name: "in memory", opt: Options{}},
		{name: "across runs", opt: Options{MaxRecords: 7}},
		{name: "across merge passes", opt: Options{MaxRecords: 7, FanIn: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var adds, want []Record
			for i := range 50 {
				p := fmt.Sprintf("f%02d", i)
				adds = append(adds, Record{Path: p, Type: TypeFile, Size: 1})
				want = append(want, Record{Path: p, Type: TypeFile, Size: 1})
			}
			// Correct every third path twice, the last time with a hash.
			for round := range 2 {
				for i := 0; i < 50; i += 3 {
					r := Record{Path: fmt.Sprintf("f%02d", i), Type: TypeFile, Size: int64(2 + round)}
					if round == 1 {
						r.Hash, r.HasHash = [16]byte{byte(i)}, true
					}
					adds = append(adds, r)
					want[i] = r
				}
			}
			name := writeManifest(t, t.TempDir(), adds, tt.opt)
			if diff := cmp.Diff(want, readFile(t, name)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddInvalid(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "m"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, r := range []Record{
		{Path: ""}, {Path: "/a"}, {Path: "a/"}, {Path: "./a"}, {Path: "a//b"},
		{Path: ".."}, {Path: "../a"}, {Path: "a/../b"}, {Path: "a\x00b"},
		{Path: "a", Type: maxType + 1},
		{Path: strings.Repeat("x", maxString+1)},
		{Path: "l", Type: TypeSymlink, Target: strings.Repeat("x", maxString+1)},
	} {
		if err := w.Add(r); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%q, %v) = %v, want ErrInvalid", r.Path, r.Type, err)
		}
	}
	if err := w.Add(Record{Path: "a/..b"}); err != nil {
		t.Errorf("Add(a/..b) = %v, want nil", err)
	}
}

// TestTempFilesRemoved: neither Close nor Abort leaves a run or a
// temporary output behind, whatever state they find.
func TestTempFilesRemoved(t *testing.T) {
	tests := []struct {
		name    string
		adds    int
		finish  func(w *Writer) error
		wantOut bool
	}{
		{name: "close", adds: 1000, finish: (*Writer).Close, wantOut: true},
		{name: "abort with runs", adds: 1000, finish: (*Writer).Abort},
		{name: "abort empty", finish: (*Writer).Abort},
		{name: "abort after close", adds: 1000, wantOut: true, finish: func(w *Writer) error {
			return errors.Join(w.Close(), w.Abort())
		}},
		{name: "close after abort", adds: 1000, finish: func(w *Writer) error {
			if err := w.Abort(); err != nil {
				return err
			}
			if err := w.Close(); !errors.Is(err, ErrClosed) {
				return fmt.Errorf("Close after Abort = %v, want ErrClosed", err)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			w, err := Create(filepath.Join(dir, "manifest"), Options{MaxRecords: 100, TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range genRecords(tt.adds, 3) {
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			if tt.adds > 0 && len(dirNames(t, tmp)) == 0 {
				t.Fatal("no runs spilled: the test tests nothing")
			}
			if err := tt.finish(w); err != nil {
				t.Fatal(err)
			}
			if left := dirNames(t, tmp); len(left) != 0 {
				t.Errorf("run files left: %v", left)
			}
			var want []string
			if tt.wantOut {
				want = []string{"manifest"}
			}
			if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
				t.Errorf("output dir (-want +got):\n%s", diff)
			}
			if err := w.Add(Record{Path: "late"}); !errors.Is(err, ErrClosed) {
				t.Errorf("Add after finish = %v, want ErrClosed", err)
			}
		})
	}
}

// TestSpillFailure: when a run cannot be written, Add says so from then on,
// and Close fails and leaves nothing behind.
func TestSpillFailure(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(t.TempDir(), "runs")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Create(filepath.Join(dir, "manifest"), Options{MaxRecords: 10, TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	recs := genRecords(100, 4)
	for _, r := range recs[:15] {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(tmp); err != nil { // the next spill fails
		t.Fatal(err)
	}
	var addErr error
	for _, r := range recs[15:] {
		if addErr = w.Add(r); addErr != nil {
			break
		}
	}
	if addErr == nil || errors.Is(addErr, ErrInvalid) {
		t.Fatalf("Add after losing TempDir = %v, want the spill's error", addErr)
	}
	if err := w.Add(recs[99]); err == nil {
		t.Error("Add after a failed spill = nil, want the error again")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed spill = nil, want an error")
	}
	if left := dirNames(t, dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestCreateMissingDir(t *testing.T) {
	_, err := Create(filepath.Join(t.TempDir(), "no", "manifest"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create in a missing dir = %v, want ErrNotExist", err)
	}
}
