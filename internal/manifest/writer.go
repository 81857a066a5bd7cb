package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Writer writes a manifest file. Records are added in any order, from any
// goroutine, and the file holds them sorted by path; of records with equal
// paths, the one added last wins, so a later Add corrects an earlier one.
// Memory is bounded as in Sorter, whose Options it takes.
//
// The file appears, complete, only when Close succeeds: until then the
// records are in a temporary file next to it (NAME.tmp-*) and run files in
// Options.TempDir, which Close and Abort remove.
type Writer struct {
	// config
	name  string
	level int
	// state
	s   *Sorter
	tmp *os.File // nil once closed
}

// Create starts a manifest file name; Options.TempDir defaults to name's
// directory. The caller MUST call Close or Abort.
func Create(name string, opt Options) (*Writer, error) {
	if opt.TempDir == "" {
		opt.TempDir = filepath.Dir(name)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create manifest: %w", err)
	}
	s := NewSorter(opt)
	return &Writer{name: name, level: s.opt.Level, s: s, tmp: tmp}, nil
}

// Add adds a record; it is safe for concurrent use (see Sorter.Add).
func (w *Writer) Add(r Record) error { return w.s.Add(r) }

// Close merges the records into the manifest file: written to the
// temporary file, synced, renamed to the name given to Create, and the
// directory synced (neither sync with Options.NoSync). On error it removes the temporary files; only a
// failure to sync the directory leaves the renamed file in place. Close
// and Abort MUST NOT be called concurrently.
func (w *Writer) Close() error {
	if w.tmp == nil {
		return ErrClosed
	}
	err := w.write()
	if err != nil {
		err = errors.Join(fmt.Errorf("write manifest %s: %w", w.name, err), w.Abort())
	}
	w.tmp = nil
	return err
}

func (w *Writer) write() error {
	sorted, err := w.s.Sort()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w.tmp, 256<<10)
	err = copyStream(bw, w.level, sorted)
	if cerr := sorted.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if !w.s.opt.NoSync {
		if err := w.tmp.Sync(); err != nil {
			return err
		}
	}
	if err := w.tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(w.tmp.Name(), w.name); err != nil {
		return err
	}
	if w.s.opt.NoSync {
		return nil
	}
	return syncDir(filepath.Dir(w.name))
}

// Abort drops the records and removes the temporary files, leaving no
// manifest. It may be called more than once, and after Close.
func (w *Writer) Abort() error {
	err := w.s.Abort()
	if w.tmp != nil {
		w.tmp.Close() // may be closed already
		if rerr := os.Remove(w.tmp.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		w.tmp = nil
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
