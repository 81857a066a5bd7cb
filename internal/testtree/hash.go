package testtree

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// hashFile returns the hex xxh3-128 of the first size bytes of the file at
// p. Holes are hashed as the zeros they read as, without reading them, so a
// mostly-hole 4 GiB file costs what its data costs; whether holes were kept is
// the Alloc field's business.
func hashFile(p string, size int64) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := xxh3.New()
	buf := make([]byte, 1<<20)
	zeros := make([]byte, len(buf))
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			data = size // a hole runs to the end
		} else if err != nil {
			return "", &os.PathError{Op: "seek", Path: p, Err: err}
		}
		data = min(data, size)
		for ; off < data; off += int64(min(int64(len(zeros)), data-off)) {
			h.Write(zeros[:min(int64(len(zeros)), data-off)])
		}
		if off >= size {
			break
		}
		hole, err := unix.Seek(int(f.Fd()), off, unix.SEEK_HOLE)
		if err != nil {
			return "", &os.PathError{Op: "seek", Path: p, Err: err}
		}
		n, err := io.Copy(h, io.NewSectionReader(f, off, min(hole, size)-off))
		if err != nil {
			return "", &os.PathError{Op: "read", Path: p, Err: err}
		}
		if n != min(hole, size)-off {
			return "", fmt.Errorf("hash %s: file shrank while read", p)
		}
		off += n
	}
	sum := h.Sum128().Bytes()
	return hex.EncodeToString(sum[:]), nil
}
