package manifest

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
)

const (
	magic   = "EFSYNCMF"
	version = 1

	endMarker = 0xFF
	// maxString bounds a path or target a reader accepts, so that a
	// damaged length cannot make it allocate gigabytes.
	maxString = 1 << 20
	// flushSize is how many encoded bytes the encoder gathers before it
	// hands them to gzip.
	flushSize = 32 << 10
)

// The flags byte of a record: which optional fields follow.
const (
	flagHash = 1 << iota
	flagXattrs
	flagTarget
	flagRdev

	knownFlags = flagHash | flagXattrs | flagTarget | flagRdev
)

var (
	// ErrCorrupt is wrapped by every error about a damaged, truncated or
	// out-of-order manifest.
	ErrCorrupt = errors.New("manifest corrupt")
	// ErrVersion is wrapped by the error about a manifest of another
	// format version.
	ErrVersion = errors.New("manifest version not supported")
)

// encoder writes the format described in doc.go. It is not safe for
// concurrent use; it checks nothing about order (its callers do).
type encoder struct {
	// state
	zw   *gzip.Writer
	buf  []byte
	prev string
	n    uint64
}

// newEncoder writes the header to w and returns an encoder of records
// compressed at gzip level.
func newEncoder(w io.Writer, level int) (*encoder, error) {
	if _, err := io.WriteString(w, magic+string(rune(version))); err != nil {
		return nil, err
	}
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	return &encoder{zw: zw, buf: make([]byte, 0, flushSize+512)}, nil
}

func (e *encoder) write(r *Record) error {
	var flags byte
	if r.HasHash {
		flags |= flagHash
	}
	if r.Xattrs != ([16]byte{}) {
		flags |= flagXattrs
	}
	if r.Target != "" {
		flags |= flagTarget
	}
	if r.Rdev != 0 {
		flags |= flagRdev
	}
	shared := commonPrefix(e.prev, r.Path)
	b := append(e.buf, byte(r.Type), flags)
	b = binary.AppendUvarint(b, uint64(shared))
	b = binary.AppendUvarint(b, uint64(len(r.Path)-shared))
	b = append(b, r.Path[shared:]...)
	b = binary.AppendUvarint(b, uint64(r.Mode))
	b = binary.AppendUvarint(b, uint64(r.UID))
	b = binary.AppendUvarint(b, uint64(r.GID))
	b = binary.AppendVarint(b, r.Size)
	b = binary.AppendVarint(b, r.Mtime)
	if flags&flagHash != 0 {
		b = append(b, r.Hash[:]...)
	}
	if flags&flagXattrs != 0 {
		b = append(b, r.Xattrs[:]...)
	}
	if flags&flagTarget != 0 {
		b = binary.AppendUvarint(b, uint64(len(r.Target)))
		b = append(b, r.Target...)
	}
	if flags&flagRdev != 0 {
		b = binary.AppendUvarint(b, r.Rdev)
	}
	e.buf, e.prev = b, r.Path
	e.n++
	if len(e.buf) >= flushSize {
		return e.flush()
	}
	return nil
}

func (e *encoder) flush() error {
	_, err := e.zw.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

// close writes the end marker and ends the gzip stream; it does not close
// the underlying writer.
func (e *encoder) close() error {
	e.buf = append(e.buf, endMarker)
	e.buf = binary.AppendUvarint(e.buf, e.n)
	if err := e.flush(); err != nil {
		return err
	}
	return e.zw.Close()
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// copyStream writes a manifest of src's records to w, header and end
// marker included, compressed at gzip level.
func copyStream(w io.Writer, level int, src Stream) error {
	enc, err := newEncoder(w, level)
	if err != nil {
		return err
	}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := enc.write(&rec); err != nil {
			return err
		}
	}
	return enc.close()
}
