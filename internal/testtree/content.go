package testtree

import (
	"encoding/binary"
	"io"
)

// Content returns a reader of n bytes of the deterministic stream for seed,
// starting at offset off. The byte at a given offset depends only on seed and
// offset, so a mutation can rewrite part of a file and a test can predict
// every byte.
func Content(seed uint64, off, n int64) io.Reader {
	return &contentReader{seed: seed, off: off, end: off + n}
}

type contentReader struct {
	seed     uint64
	off, end int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if rest := r.end - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	fill(p, r.seed, r.off)
	r.off += int64(len(p))
	return len(p), nil
}

// fill writes the stream's bytes for [off, off+len(p)) into p.
func fill(p []byte, seed uint64, off int64) {
	var word [8]byte
	for i := 0; i < len(p); {
		w := (off + int64(i)) / 8
		binary.LittleEndian.PutUint64(word[:], splitmix(seed^uint64(w)*0x9e3779b97f4a7c15))
		k := copy(p[i:], word[(off+int64(i))%8:])
		i += k
	}
}

// splitmix is SplitMix64's output function: cheap, and never a run of zeros
// long enough to look like a hole.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
