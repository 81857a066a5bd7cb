package manifest

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// decoder reads the records that follow the header. It is not safe for
// concurrent use.
type decoder struct {
	// state
	src  *errReader
	zr   *gzip.Reader
	br   *bufio.Reader
	prev []byte
	n    uint64
}

func newDecoder(r io.Reader) (*decoder, error) {
	d := &decoder{src: &errReader{r: r}}
	var hdr [len(magic) + 1]byte
	if _, err := io.ReadFull(d.src, hdr[:]); err != nil {
		return nil, d.fail(fmt.Errorf("header: %w", err))
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, d.fail(errors.New("not a manifest: bad magic"))
	}
	if v := hdr[len(magic)]; v != version {
		return nil, fmt.Errorf("version %d, want %d: %w", v, version, ErrVersion)
	}
	zr, err := gzip.NewReader(d.src)
	if err != nil {
		return nil, d.fail(err)
	}
	d.zr, d.br = zr, bufio.NewReaderSize(zr, 64<<10)
	return d, nil
}

// next decodes the next record into r; it returns io.EOF after a valid end
// marker, and an error wrapping ErrCorrupt for anything malformed.
func (d *decoder) next(r *Record) error {
	typ, err := d.br.ReadByte()
	if err != nil {
		return d.fail(err)
	}
	if typ == endMarker {
		return d.end()
	}
	if Type(typ) > maxType {
		return d.fail(fmt.Errorf("bad type %d", typ))
	}
	flags, err := d.br.ReadByte()
	if err != nil {
		return d.fail(err)
	}
	if flags&^knownFlags != 0 {
		return d.fail(fmt.Errorf("unknown flags %#x", flags))
	}
	*r = Record{Type: Type(typ), HasHash: flags&flagHash != 0}
	if err := d.readPath(r); err != nil {
		return err
	}
	if err := d.readMeta(r); err != nil {
		return err
	}
	if err := d.readOptional(r, flags); err != nil {
		return err
	}
	d.n++
	return nil
}

func (d *decoder) readPath(r *Record) error {
	shared, err := binary.ReadUvarint(d.br)
	if err != nil {
		return d.fail(err)
	}
	n, err := binary.ReadUvarint(d.br)
	if err != nil {
		return d.fail(err)
	}
	if shared > uint64(len(d.prev)) || n > maxString || shared+n == 0 {
		return d.fail(fmt.Errorf("bad path length %d+%d", shared, n))
	}
	d.prev = append(d.prev[:shared], make([]byte, n)...)
	if _, err := io.ReadFull(d.br, d.prev[shared:]); err != nil {
		return d.fail(err)
	}
	r.Path = string(d.prev)
	return nil
}

func (d *decoder) readMeta(r *Record) error {
	var u [3]uint64
	for i := range u {
		v, err := binary.ReadUvarint(d.br)
		if err != nil {
			return d.fail(err)
		}
		if v > 1<<32-1 {
			return d.fail(fmt.Errorf("field %d: %d overflows", i, v))
		}
		u[i] = v
	}
	r.Mode, r.UID, r.GID = uint32(u[0]), uint32(u[1]), uint32(u[2])
	var err error
	if r.Size, err = binary.ReadVarint(d.br); err != nil {
		return d.fail(err)
	}
	if r.Mtime, err = binary.ReadVarint(d.br); err != nil {
		return d.fail(err)
	}
	return nil
}

func (d *decoder) readOptional(r *Record, flags byte) error {
	if flags&flagHash != 0 {
		if _, err := io.ReadFull(d.br, r.Hash[:]); err != nil {
			return d.fail(err)
		}
	}
	if flags&flagXattrs != 0 {
		if _, err := io.ReadFull(d.br, r.Xattrs[:]); err != nil {
			return d.fail(err)
		}
	}
	if flags&flagTarget != 0 {
		n, err := binary.ReadUvarint(d.br)
		if err != nil {
			return d.fail(err)
		}
		if n == 0 || n > maxString {
			return d.fail(fmt.Errorf("bad target length %d", n))
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(d.br, b); err != nil {
			return d.fail(err)
		}
		r.Target = string(b)
	}
	if flags&flagRdev != 0 {
		v, err := binary.ReadUvarint(d.br)
		if err != nil {
			return d.fail(err)
		}
		r.Rdev = v
	}
	return nil
}

// end checks the end marker's count and that nothing follows it, the gzip
// checksum included, then returns io.EOF.
func (d *decoder) end() error {
	n, err := binary.ReadUvarint(d.br)
	if err != nil {
		return d.fail(err)
	}
	if n != d.n {
		return d.fail(fmt.Errorf("end marker counts %d records, read %d", n, d.n))
	}
	if _, err := d.br.ReadByte(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the end marker")
		}
		return d.fail(err)
	}
	return io.EOF
}

func (d *decoder) close() error { return d.zr.Close() }

// fail marks err, a failure to decode, as ErrCorrupt, and a short read as
// io.ErrUnexpectedEOF (a truncated file). An error of the underlying
// reader is not damage: it is returned as it is.
func (d *decoder) fail(err error) error {
	if d.src.err != nil && errors.Is(err, d.src.err) {
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// errReader remembers the first error of r other than io.EOF, so that fail
// can tell it from damage.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
