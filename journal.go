package efsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
)

// A journal records one run in the pair's state, in runs/ID:
//
//	run            the run's summary, JSON, rewritten at its start and end
//	events         lines appended as they happen: "crawled", "finished",
//	               "done N", "resumed"
//	chunks/N       chunk N's entry paths, NUL-terminated, written before
//	               the chunk is copied and removed once it is done
//	chunks/N.fail  the paths of its entries that failed
//
// So a chunk file without a .fail is pending, one with it failed, and a
// chunk without a file is done: a run killed at any point leaves a
// journal that --resume can replay. Paths are kept, not stat data: a
// replay looks again, since the source may have changed.
type journal struct {
	dir string

	mu     sync.Mutex
	events *os.File
	meta   runMeta
}

// runMeta is the file "run".
type runMeta struct {
	ID          string      `json:"id"`
	Source      string      `json:"source"`
	Destination string      `json:"destination"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end,omitzero"`
	Status      string      `json:"status"` // a kpi.Status, or "running"
	PID         int         `json:"pid"`
	Cleaned     bool        `json:"cleaned,omitempty"` // the temporary files it may have left were removed
	Report      *kpi.Report `json:"report,omitempty"`
}

const statusRunning = "running"

// createJournal starts the journal of a new run.
func createJournal(pair *pairState, id, src, dst string, start time.Time) (*journal, error) {
	dir := filepath.Join(pair.dir, "runs", id)
	if err := os.MkdirAll(filepath.Join(dir, "chunks"), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j, err := openJournal(dir)
	if err != nil {
		return nil, err
	}
	j.meta = runMeta{ID: id, Source: src, Destination: dst, Start: start.UTC(), Status: statusRunning, PID: os.Getpid()}
	return j, j.writeMeta()
}

// reopenJournal continues the journal in dir, for a resumed run.
func reopenJournal(dir string) (*journal, error) {
	j, err := openJournal(dir)
	if err != nil {
		return nil, err
	}
	if j.meta, err = readMeta(dir); err != nil {
		j.events.Close()
		return nil, err
	}
	j.meta.Status, j.meta.End, j.meta.PID, j.meta.Report = statusRunning, time.Time{}, os.Getpid(), nil
	return j, errors.Join(j.writeMeta(), j.event("resumed"))
}

func openJournal(dir string) (*journal, error) {
	f, err := os.OpenFile(filepath.Join(dir, "events"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &journal{dir: dir, events: f}, nil
}

func readMeta(dir string) (runMeta, error) {
	var m runMeta
	b, err := os.ReadFile(filepath.Join(dir, "run"))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return m, fmt.Errorf("journal %s: %w", dir, err)
	}
	return m, nil
}

func (j *journal) writeMeta() error { return writeMeta(j.dir, j.meta) }

func writeMeta(dir string, m runMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "run"), append(b, '\n'))
}

// event appends one line to events. A write to a file survives the
// process being killed; a lost line only makes a replay do more.
func (j *journal) event(line string) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.events.WriteString(line + "\n")
	return err
}

func (j *journal) chunkPath(id int) string { return chunkFile(j.dir, id) }

// chunkFile is the list of chunk id in the run directory dir.
func chunkFile(dir string, id int) string {
	return filepath.Join(dir, "chunks", strconv.Itoa(id))
}

// pending records chunk id's entries before it is copied.
func (j *journal) pending(id int, entries []partition.Entry) error {
	if j == nil {
		return nil
	}
	var b bytes.Buffer
	for i := range entries {
		b.WriteString(entries[i].Path)
		b.WriteByte(0)
	}
	return writeAtomic(j.chunkPath(id), b.Bytes())
}

// done records how chunk id ended: done, or failed with these entries.
func (j *journal) done(id int, failed []string) error {
	if j == nil {
		return nil
	}
	p := j.chunkPath(id)
	if len(failed) > 0 {
		return writeAtomic(p+".fail", []byte(strings.Join(failed, "\x00")+"\x00"))
	}
	os.Remove(p + ".fail")
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return j.event("done " + strconv.Itoa(id))
}

// end records the run's end and its report, and closes the journal.
func (j *journal) end(r *kpi.Report) error {
	j.meta.End, j.meta.Status, j.meta.Report = r.Stop, string(r.Status), r
	return errors.Join(j.writeMeta(), j.events.Close())
}

// readList returns the NUL-terminated paths of a chunk file.
func readList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(string(b), "\x00"), nil
}

// writeList writes paths, each NUL-terminated, to path, atomically: the
// form readList reads.
func writeList(path string, paths []string) error {
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(p)
		b.WriteByte(0)
	}
	return writeAtomic(path, []byte(b.String()))
}
