package kpi

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Outcome is what the transfer stage did with one entry, booked by
// File.Done.
type Outcome uint8

// The outcomes.
const (
	Created      Outcome = iota // absent at the destination, copied
	Updated                     // present but different, data rewritten
	HardLinked                  // linked to an entry already copied
	Unchanged                   // already up to date, nothing written
	MetadataOnly                // data up to date, only mode, owner or times set
	Failed                      // not copied because of an error
	Vanished                    // gone from the source before it was copied
	Skipped                     // not copied: the destination can't hold it (a device without privilege)
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	Created:      "created",
	Updated:      "updated",
	HardLinked:   "hard_linked",
	Unchanged:    "unchanged",
	MetadataOnly: "metadata_only",
	Failed:       "failed",
	Vanished:     "vanished",
	Skipped:      "skipped",
}

// String returns the outcome's name, such as "hard_linked".
func (o Outcome) String() string {
	if o >= numOutcomes {
		return fmt.Sprintf("Outcome(%d)", uint8(o))
	}
	return outcomeNames[o]
}

// errNoCause stands for the error of a File booked Failed with a nil error.
var errNoCause = errors.New("failed, no error given")

// File is the handle of one entry being transferred, from StartFile to
// Done. Its methods are safe for concurrent use, though one goroutine
// normally owns it. All methods of a nil *File are no-ops.
type File struct {
	// config
	c    *Counters
	rel  string
	size int64

	// state
	read    atomic.Int64
	matched atomic.Int64
	data    atomic.Bool // Reader or Copied was used: the data was copied
	done    atomic.Bool
}

// StartFile returns the handle of the entry at rel, of size bytes, that the
// transfer stage starts to work on. Use it for every entry the stage
// handles, not only regular files; the caller MUST call Done once when the
// entry is finished, or the file stays counted as in flight.
func (c *Counters) StartFile(rel string, size int64) *File {
	if c == nil {
		return nil
	}
	c.n.inFlight.Add(1)
	return &File{c: c, rel: rel, size: size}
}

// Reader returns r wrapped so that every byte read through it is counted
// at once, so that progress shows bytes in flight. Using it marks the file
// as transferred if Done books it Created or Updated, even when it is
// empty. On a nil *File it returns r.
func (f *File) Reader(r io.Reader) io.Reader {
	if f == nil {
		return r
	}
	f.data.Store(true)
	return &countingReader{f: f, r: r}
}

// Copied counts n bytes of the source read or copied without Reader, for
// instance by copy_file_range, and marks the file as transferred as Reader
// does.
func (f *File) Copied(n int64) {
	if f == nil {
		return
	}
	f.data.Store(true)
	f.add(n)
}

// Matched counts n bytes of the source that were already present at the
// destination and not rewritten (rsync's "matched data"). They MUST also
// have been counted by Reader or Copied: the literal data booked by Done is
// the bytes read minus the bytes matched.
func (f *File) Matched(n int64) {
	if f == nil {
		return
	}
	f.matched.Add(n)
}

// Done books the outcome of the file. A non-nil err overrides o: it is
// passed to Counters.Error, which counts it by class, and the file is
// booked Failed, or Vanished if err is ENOENT. Failed with a nil err is
// counted as an error of ClassOther. Only the first call counts; later
// calls are no-ops.
func (f *File) Done(o Outcome, err error) {
	if f == nil || !f.done.CompareAndSwap(false, true) {
		return
	}
	c := f.c
	c.n.inFlight.Add(-1)
	switch {
	case err != nil && Classify(err) == ClassVanished:
		o = Vanished
	case err != nil:
		o = Failed
	case o == Failed:
		err = errNoCause
	case o >= numOutcomes:
		o, err = Failed, fmt.Errorf("invalid outcome %d", uint8(o))
	}
	switch o {
	case Vanished:
		c.Vanished(f.rel)
		return
	case Failed:
		c.n.outcomes[Failed].Add(1)
		c.Error(f.rel, err)
		return
	}
	c.n.outcomes[o].Add(1)
	if o != Created && o != Updated {
		return
	}
	read, matched := f.read.Load(), f.matched.Load()
	c.n.literal.Add(max(read-matched, 0))
	c.n.matched.Add(matched)
	if f.data.Load() {
		c.n.transferred.Add(1)
		c.n.transferredBytes.Add(f.size)
	}
}

func (f *File) add(n int64) {
	f.read.Add(n)
	f.c.n.read.Add(n)
}

// countingReader counts the bytes read through it into its File. It does
// not implement io.WriterTo on purpose: a fast path would bypass the count.
type countingReader struct {
	f *File
	r io.Reader
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	if n > 0 {
		cr.f.add(int64(n))
	}
	return n, err
}
