package efsync

import (
	"context"
	"errors"
	"time"

	"github.com/efsync/efsync/kpi"
)

// ErrNotFound is returned, wrapped, by Catalog.Get for an id it has no
// record of.
var ErrNotFound = errors.New("not found")

// RecordVersion is the version of the JSON form of Record. Fields may be
// added within a version; none is removed, renamed or given a new meaning
// without a new version.
const RecordVersion = 1

// Record is the catalog's account of one backup run: what it read, where
// it wrote its snapshot, how each phase went and how it ended.
type Record struct {
	Version int    `json:"version"` // RecordVersion; Put sets it when 0
	ID      string `json:"id"`      // the run's and its snapshot's id: sorts by start
	Label   string `json:"label"`   // the snapshot series: "daily", "hourly"
	Source  string `json:"source"`
	Repo    string `json:"repo"`
	Host    string `json:"host"` // where the backup ran
	// Snapshot is the snapshot's directory, Repo/<label>/<id>, or ""
	// when the run made none.
	Snapshot string `json:"snapshot"`
	// Parent is the id of the snapshot of the same label that unchanged
	// files were hard-linked from, or "" for a full copy.
	Parent string     `json:"parent"`
	Status kpi.Status `json:"status"`
	// Reason says why the status is not success: the error that stopped
	// the run, or the guard that refused the source.
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
	Stop   time.Time `json:"stop,omitzero"` // zero while the run goes on
	// Phases times the backup's own steps (lock, copy, seal, prune...);
	// Report.Phases times the copy engine's.
	Phases []kpi.Phase `json:"phases"`
	Files  int64       `json:"files"` // entries in the snapshot
	Bytes  int64       `json:"bytes"` // sizes of its regular files
	// Failed are the paths, relative to Source, that failed; the caller
	// may cap the list.
	Failed []string `json:"failed"`
	// Suspect says the source's file count fell beyond the guard's limit
	// since the last snapshot: kept, but to be looked at.
	Suspect bool `json:"suspect"`
	// Pruned is when the snapshot was deleted by retention; zero until
	// then. The record stays, for the history.
	Pruned time.Time  `json:"pruned,omitzero"`
	Report kpi.Report `json:"report"`
}

// Info returns what a retention policy needs of r's snapshot.
func (r Record) Info() SnapshotInfo {
	return SnapshotInfo{ID: r.ID, Label: r.Label, Time: r.Start, Status: r.Status}
}

// Catalog stores the records of backups, one per id. FileCatalog keeps
// them in the repository; others may keep them in a database.
//
// Implementations MUST be safe for concurrent use. Put MUST be atomic: a
// Get or List sees the old record or the new one, never a part. Get of an
// unknown id MUST return an error matching ErrNotFound. List MUST return
// every record, sorted by ID, and an empty catalog MUST list as no records
// and no error. Every method MUST return ctx.Err() untouched once ctx is
// done.
type Catalog interface {
	// Put stores r under r.ID, replacing any record with that id.
	Put(ctx context.Context, r Record) error
	// Get returns the record of id.
	Get(ctx context.Context, id string) (Record, error)
	// List returns all records, sorted by ID.
	List(ctx context.Context) ([]Record, error)
}
