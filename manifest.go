package efsync

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"github.com/efsync/efsync/transfer"
)

// A snapshot's manifest is at repo/.efsync/manifests/<id>: every entry,
// sorted by path, with its type, size, mode, owner, mtime, symlink target,
// device, the digest of its xattrs and the xxh3-128 of a file's content.
// Beside it, <id>.wrote lists the entries the backup that made the
// snapshot wrote (a changed-only verify reads only those).
func manifestPath(repo, id string) string {
	return filepath.Join(repo, repoMeta, "manifests", id)
}

func wrotePath(repo, id string) string { return manifestPath(repo, id) + ".wrote" }

// Flags of a todo record (in its Mode): what the manifest's build must
// still find out about the entry.
const (
	needHash   = 1 << iota // a file whose content the copy did not read
	needXattrs             // an entry whose xattrs the copy did not read
)

// manifestLog collects a backup's entries as the copier reports them
// (transfer.Options.OnDone), with bounded memory: sorters spill to
// temporary files. build then makes the manifest.
type manifestLog struct {
	noXattrs bool

	recs  *manifest.Sorter // every entry, as reported
	todo  *manifest.Sorter // path-only records, Mode holding need flags
	wrote *manifest.Sorter // path-only: the entries the run wrote
	queue *manifest.Sorter // path-only: published to workers (manifest_queued.go)
	sums  *manifest.Sorter // what workers' copies learnt (queue_sums.go)

	mu  sync.Mutex
	err error // the first failure to record: no manifest then
}

func newManifestLog(noXattrs bool) *manifestLog {
	o := manifest.Options{TempDir: os.TempDir()} // a local disk: runs are scratch
	return &manifestLog{noXattrs: noXattrs, recs: manifest.NewSorter(o),
		todo: manifest.NewSorter(o), wrote: manifest.NewSorter(o), queue: manifest.NewSorter(o), sums: manifest.NewSorter(o)}
}

// addSum records what a worker's copy learnt of an entry (queue_sums.go).
func (m *manifestLog) addSum(r manifest.Record) error { return m.sums.Add(r) }

// onDone records one entry the copier reported.
func (m *manifestLog) onDone(d transfer.Done) {
	r := recordOf(d.Entry)
	var need uint32
	if r.Type == manifest.TypeFile {
		if d.Hashed {
			r.Hash, r.HasHash = d.Sum, true
		} else {
			need |= needHash
		}
	}
	if d.XattrsRead {
		r.Xattrs = xattrDigest(d.Xattrs)
	} else if !m.noXattrs {
		need |= needXattrs
	}
	err := m.recs.Add(r)
	if err == nil && need != 0 {
		err = m.todo.Add(manifest.Record{Path: r.Path, Mode: need})
	}
	if err == nil && wrote(d.Outcome) {
		err = m.wrote.Add(manifest.Record{Path: r.Path})
	}
	if err != nil {
		m.mu.Lock()
		m.err = errors.Join(m.err, err)
		m.mu.Unlock()
	}
}

// abort drops what was collected.
func (m *manifestLog) abort() {
	m.recs.Abort()
	m.todo.Abort()
	m.wrote.Abort()
	m.queue.Abort()
	m.sums.Abort()
}

// wrote reports whether an outcome wrote to the destination.
func wrote(o kpi.Outcome) bool {
	return o == kpi.Created || o == kpi.Updated || o == kpi.MetadataOnly
}

// recordOf returns the manifest record of a crawled entry, without its
// hash and xattrs.
func recordOf(e *partition.Entry) manifest.Record {
	m := e.FileMode()
	r := manifest.Record{Path: e.Path, Type: manifest.TypeOf(m), Mode: manifest.ModeOf(m),
		UID: e.UID, GID: e.GID, Size: e.Size, Mtime: e.Mtime, Target: e.Target}
	switch r.Type {
	case manifest.TypeCharDev, manifest.TypeBlockDev:
		r.Rdev = e.Rdev
	case manifest.TypeDir:
		r.Size = 0 // a directory's size is its file system's business
	}
	return r
}

// xattrDigest is manifest.XattrHash of a name-to-value map.
func xattrDigest(x map[string]string) [16]byte {
	if len(x) == 0 {
		return [16]byte{}
	}
	b := make(map[string][]byte, len(x))
	for k, v := range x {
		b[k] = []byte(v)
	}
	return manifest.XattrHash(b)
}

// openParent opens the manifest of snapshot id, or returns an empty
// stream if there is none (a snapshot made before manifests, or the first).
func openParent(repo, id string) (manifest.Stream, func(), error) {
	if id == "" {
		return manifest.SliceStream(nil), func() {}, nil
	}
	r, err := manifest.Open(manifestPath(repo, id))
	if errors.Is(err, fs.ErrNotExist) {
		return manifest.SliceStream(nil), func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}
