package efsync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FileCatalog is the built-in Catalog: one JSON file per record,
// repo/.efsync/catalog/<id>.json, indented to be read by hand. It is safe
// for concurrent use, also by several processes or hosts sharing the
// repository.
type FileCatalog struct {
	dir string
}

var _ Catalog = (*FileCatalog)(nil)

// NewFileCatalog returns the catalog of the repository repo. Nothing is
// created before the first Put.
func NewFileCatalog(repo string) *FileCatalog {
	return &FileCatalog{dir: filepath.Join(repo, ".efsync", "catalog")}
}

// Dir returns the directory that holds the records.
func (c *FileCatalog) Dir() string { return c.dir }

// Put writes r to a temporary file beside its record, syncs it and
// renames it over the record, so that a reader sees the old record or the
// new one, even after a crash.
func (c *FileCatalog) Put(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validRecordID(r.ID) {
		return fmt.Errorf("catalog: put: invalid record id %q", r.ID)
	}
	if r.Version == 0 {
		r.Version = RecordVersion
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("catalog: put %s: %w", r.ID, err)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	// A unique temporary name: two Puts of one id must not share one.
	// It starts with a dot, which List skips.
	f, err := os.CreateTemp(c.dir, "."+r.ID+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(r.ID))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return c.sync()
}

// Get reads the record of id.
func (c *FileCatalog) Get(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if !validRecordID(id) {
		return Record{}, fmt.Errorf("catalog record %q: invalid id: %w", id, ErrNotFound)
	}
	r, err := readRecord(c.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return Record{}, fmt.Errorf("catalog record %s: %w", id, ErrNotFound)
	}
	return r, err
}

// List reads every record. A record it cannot read fails the whole List,
// naming its file: a caller such as a prune must not act on part of the
// history.
func (c *FileCatalog) List(ctx context.Context) ([]Record, error) {
	ents, err := os.ReadDir(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") || e.IsDir() {
			continue
		}
		r, err := readRecord(filepath.Join(c.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	// Not the order of the names: "a.json" sorts after "a-b.json".
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (c *FileCatalog) path(id string) string { return filepath.Join(c.dir, id+".json") }

// readRecord reads and checks the record file at path, <id>.json.
func readRecord(path string) (Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("catalog record %s: %w", path, err)
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".json"); r.ID != want {
		return Record{}, fmt.Errorf("catalog record %s: holds id %q", path, r.ID)
	}
	if r.Version > RecordVersion {
		return Record{}, fmt.Errorf("catalog record %s: version %d, newer than this efsync's %d", path, r.Version, RecordVersion)
	}
	return r, nil
}

// validRecordID reports whether id can name a record file: a run id, not
// hidden like the temporary files.
func validRecordID(id string) bool {
	return validRunID(id) && !strings.HasPrefix(id, ".")
}

// sync makes the renames in the catalog's directory survive a crash.
func (c *FileCatalog) sync() error {
	d, err := os.Open(c.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
