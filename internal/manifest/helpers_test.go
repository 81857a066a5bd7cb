package manifest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/zeebo/xxh3"
)

// genRecords returns n records with distinct paths, of every type, in a
// random order from seed. Paths are a tree: "." and directories d0, d0/d1…
func genRecords(n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	recs := make([]Record, 0, n)
	if n > 0 {
		recs = append(recs, Record{Path: ".", Type: TypeDir, Mode: 0o755, Mtime: 1})
	}
	for i := 1; i < n; i++ {
		p := fmt.Sprintf("d%d/sub%02d/f%06d.dat", i%7, i%13, i)
		recs = append(recs, genRecord(rng, p, Type(1+i%int(maxType))))
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

func genRecord(rng *rand.Rand, p string, t Type) Record {
	r := Record{
		Path:  p,
		Type:  t,
		Mode:  uint32(rng.IntN(0o10000)),
		UID:   uint32(rng.IntN(70000)),
		GID:   uint32(rng.IntN(70000)),
		Mtime: 1_700_000_000_000_000_000 + rng.Int64N(1e17) - 5e16,
	}
	switch t {
	case TypeFile:
		r.Size = rng.Int64N(1 << 30)
		r.HasHash = rng.IntN(4) != 0
		if r.HasHash {
			r.Hash = xxh3.HashString128(p).Bytes()
		}
	case TypeSymlink:
		r.Target = "../target/" + p
		r.Size = int64(len(r.Target))
	case TypeCharDev, TypeBlockDev:
		r.Rdev = rng.Uint64N(1 << 40)
	}
	if rng.IntN(8) == 0 {
		r.Xattrs = XattrHash(map[string][]byte{"user.k": []byte(p)})
	}
	return r
}

// sorted returns a sorted copy of recs, as a manifest holds them.
func sorted(recs []Record) []Record {
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b Record) int { return Compare(a.Path, b.Path) })
	return out
}

// writeManifest writes recs to a new manifest in dir and returns its name.
func writeManifest(t testing.TB, dir string, recs []Record, opt Options) string {
	t.Helper()
	name := filepath.Join(dir, "manifest")
	w, err := Create(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// readAll returns the records of a Stream up to io.EOF or an error.
func readAll(s Stream) ([]Record, error) {
	var out []Record
	for {
		r, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

// readFile opens name and reads all its records.
func readFile(t testing.TB, name string) []Record {
	t.Helper()
	r, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// dirNames lists dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
