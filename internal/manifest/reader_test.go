package manifest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// encode returns recs encoded in the given order, unchecked.
func encode(t testing.TB, recs []Record) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := copyStream(&b, 1, SliceStream(recs)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readBytes opens data as a manifest file named name and reads it all.
func readBytes(name string, data []byte) ([]Record, error) {
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAll(r)
}

// TestReaderCorrupt: every damage is an error that names the file and
// wraps ErrCorrupt.
func TestReaderCorrupt(t *testing.T) {
	good := encode(t, sorted(genRecords(50, 5)))
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "short header", data: []byte("EFSY")},
		{name: "bad magic", data: append([]byte("EFSYNCMX"), good[8:]...)},
		{name: "header only", data: good[:9]},
		{name: "no gzip end", data: good[:len(good)-8]},
		{name: "half", data: good[:len(good)/2]},
		{name: "trailing garbage", data: append(bytes.Clone(good), "junk"...)},
		{name: "out of order", data: encode(t, []Record{{Path: "b"}, {Path: "a"}})},
		{name: "duplicate", data: encode(t, []Record{{Path: "a"}, {Path: "a"}})},
		{name: "root not first", data: encode(t, []Record{{Path: "a"}, {Path: "."}})},
		{name: "escaping path", data: encode(t, []Record{{Path: "../etc/passwd"}})},
		{name: "absolute path", data: encode(t, []Record{{Path: "/etc/passwd"}})},
		{name: "unclean path", data: encode(t, []Record{{Path: "a//b"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes("/repo/snap/manifest", tt.data)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), "/repo/snap/manifest") {
				t.Errorf("err = %v, want the file's name in it", err)
			}
		})
	}
}

// TestReaderEveryTruncation cuts a manifest at every length: each cut is
// ErrCorrupt, never a panic and never a clean end.
func TestReaderEveryTruncation(t *testing.T) {
	good := encode(t, sorted(genRecords(30, 6)))
	for n := range len(good) {
		if _, err := readBytes("m", good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut at %d of %d: err = %v, want ErrCorrupt", n, len(good), err)
		}
	}
}

// TestReaderEveryFlip flips each byte: the reader reports an error, or (for
// gzip header bytes no checksum covers) reads the same records.
func TestReaderEveryFlip(t *testing.T) {
	want := sorted(genRecords(30, 7))
	good := encode(t, want)
	for i := range good {
		data := bytes.Clone(good)
		data[i] ^= 0x55
		got, err := readBytes("m", data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("flip at %d: err = %v, want ErrCorrupt or ErrVersion", i, err)
			}
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("flip at %d read without error but differs (-want +got):\n%s", i, diff)
		}
	}
}

func TestReaderVersion(t *testing.T) {
	data := encode(t, []Record{{Path: "a"}})
	data[8] = version + 1
	_, err := readBytes("/x/manifest", data)
	if !errors.Is(err, ErrVersion) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrVersion only", err)
	}
	if !strings.Contains(err.Error(), "/x/manifest") || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("err = %v, want the name and the version", err)
	}
}

// TestReaderIOError: a failing disk is reported as itself, not as damage.
func TestReaderIOError(t *testing.T) {
	good := encode(t, sorted(genRecords(200, 8)))
	boom := errors.New("EIO")
	src := io.MultiReader(bytes.NewReader(good[:len(good)/2]), failingReader{boom})
	r, err := NewReader(src, "m")
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want EIO and not ErrCorrupt", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("Next after an error = %v, want the same error", again)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file = %v, want ErrNotExist", err)
	}
}

func TestOpenCorruptFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "manifest")
	if err := os.WriteFile(name, []byte("not a manifest at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(name)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
		t.Errorf("Open = %v, want ErrCorrupt naming %s", err, name)
	}
}

// FuzzRead: no input makes the reader panic, and whatever it accepts comes
// out sorted and survives a second round trip.
func FuzzRead(f *testing.F) {
	f.Add(encode(f, nil))
	f.Add(encode(f, sorted(genRecords(5, 9))))
	f.Add(encode(f, []Record{{Path: ".", Type: TypeDir}, {Path: "l", Type: TypeSymlink, Target: "t", Rdev: 3}}))
	f.Add([]byte("EFSYNCMF\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := readBytes("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("err = %v, want ErrCorrupt or ErrVersion", err)
			}
			return
		}
		again, err := readBytes("again", encode(t, recs))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(recs, again); diff != "" {
			t.Fatalf("re-encoded records differ (-first +second):\n%s", diff)
		}
	})
}
