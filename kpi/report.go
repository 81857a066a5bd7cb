package kpi

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ReportVersion is the version of the JSON form of Report. Fields may be
// added within a version; none is removed, renamed or given a new meaning
// without a new version.
const ReportVersion = 1

// Status is how a run ended, as decided by the engine and recorded by
// Counters.Finish. It is "" while the run goes on.
type Status string

// The statuses of a run, and of a partition.
const (
	StatusSuccess    Status = "success"    // everything was copied
	StatusPartial    Status = "partial"    // the run ended, but some entries failed
	StatusIncomplete Status = "incomplete" // stopped before the end: window over or canceled
	StatusFailed     Status = "failed"     // a fatal error: the copy can't be trusted
)

var statuses = [...]Status{StatusSuccess, StatusPartial, StatusIncomplete, StatusFailed}

// ExitCode returns the process exit code for s: 0 for success, 2 for
// partial, 3 for incomplete, 4 for failed, and 1 for any other value,
// including "" (1 is also what a Go program exits with on a usage error).
func (s Status) ExitCode() int {
	switch s {
	case StatusSuccess:
		return 0
	case StatusPartial:
		return 2
	case StatusIncomplete:
		return 3
	case StatusFailed:
		return 4
	}
	return 1
}

// Report is a snapshot of a run's counters, taken by Counters.Report. It is
// a plain value: it shares nothing with the Counters. Its JSON form, shown
// in testdata/report.golden.json, is stable (see ReportVersion): times are
// RFC 3339 in UTC with nanoseconds, durations are seconds as a float in
// fields named "seconds", and a zero stop time is left out.
//
// A Report taken while the run goes on reads each counter atomically, but
// not all at the same instant.
type Report struct {
	Version     int       `json:"version"` // ReportVersion
	RunID       string    `json:"run_id"`
	Source      string    `json:"source"`
	Destination string    `json:"destination"`
	Status      Status    `json:"status"`
	Start       time.Time `json:"start"`
	Stop        time.Time `json:"stop,omitzero"` // zero until Finish
	Seconds     float64   `json:"seconds"`       // Start to Stop, or to the snapshot

	Scanned       EntryCounts  `json:"scanned"`        // entries found by the walk
	Files         FileCounts   `json:"files"`          // outcomes booked by File.Done
	Deleted       EntryCounts  `json:"deleted"`        // entries removed from the destination
	Bytes         ByteCounts   `json:"bytes"`          // sizes and data moved
	Vanished      int64        `json:"vanished"`       // entries gone (ENOENT) during the run; not errors
	VanishedPaths []string     `json:"vanished_paths"` // the first of them, up to Options.MaxErrors
	Errors        ErrorSummary `json:"errors"`
	Phases        []Phase      `json:"phases"`     // in the order they first started
	Partitions    []Partition  `json:"partitions"` // sorted by ID
}

// FileCounts holds the number of entries booked with each outcome by
// File.Done, and of those still in flight.
type FileCounts struct {
	Created      int64 `json:"created"`
	Updated      int64 `json:"updated"`
	HardLinked   int64 `json:"hard_linked"`
	Unchanged    int64 `json:"unchanged"`
	MetadataOnly int64 `json:"metadata_only"`
	Failed       int64 `json:"failed"`
	Skipped      int64 `json:"skipped"`
	// Transferred counts the Created or Updated entries whose data was
	// copied through File.Reader or File.Copied (rsync's "regular files
	// transferred").
	Transferred int64 `json:"transferred"`
	InFlight    int64 `json:"in_flight"` // started and not Done
}

// ByteCounts holds sizes and the data moved, in bytes.
type ByteCounts struct {
	Scanned     int64 `json:"scanned"`     // sizes passed to Scanned (rsync "total file size")
	Transferred int64 `json:"transferred"` // sizes of the transferred files (rsync "total transferred file size")
	Read        int64 `json:"read"`        // read from the source so far, including files in flight
	Literal     int64 `json:"literal"`     // written to the destination: read minus matched
	Matched     int64 `json:"matched"`     // already at the destination, not rewritten
}

// Report returns a snapshot of the counters. Safe for concurrent use, also
// while the run goes on. All times are in UTC and all slices non-nil, so
// that the JSON form has no nulls.
func (c *Counters) Report() Report {
	if c == nil {
		return Report{Version: ReportVersion, VanishedPaths: []string{},
			Errors: ErrorSummary{First: []ErrorRecord{}}, Phases: []Phase{}, Partitions: []Partition{}}
	}
	c.mu.Lock()
	stop, status := c.stop, c.status
	c.mu.Unlock()
	end := stop
	if end.IsZero() {
		end = c.opt.Now()
	}
	r := Report{
		Version: ReportVersion, RunID: c.opt.RunID,
		Source: c.opt.Source, Destination: c.opt.Destination,
		Status: status, Start: c.start.UTC(), Stop: stop.UTC(),
		Seconds: end.Sub(c.start).Seconds(),
	}
	c.loadCounts(&r)
	c.kept.mu.Lock()
	r.VanishedPaths = append([]string{}, c.kept.vanished...)
	r.Errors.First = append([]ErrorRecord{}, c.kept.errors...)
	c.kept.mu.Unlock()
	r.Phases = c.phases.snapshot(end)
	r.Partitions = c.parts.snapshot()
	return r
}

// loadCounts copies the atomic counters into r.
func (c *Counters) loadCounts(r *Report) {
	n := &c.n
	var scanned, deleted [numTypes]int64
	for t := range numTypes {
		scanned[t], deleted[t] = n.scanned[t].Load(), n.deleted[t].Load()
	}
	r.Scanned, r.Deleted = entryCounts(&scanned), entryCounts(&deleted)
	r.Files = FileCounts{
		Created: n.outcomes[Created].Load(), Updated: n.outcomes[Updated].Load(),
		HardLinked: n.outcomes[HardLinked].Load(), Unchanged: n.outcomes[Unchanged].Load(),
		MetadataOnly: n.outcomes[MetadataOnly].Load(), Failed: n.outcomes[Failed].Load(),
		Skipped:     n.outcomes[Skipped].Load(),
		Transferred: n.transferred.Load(), InFlight: n.inFlight.Load(),
	}
	r.Bytes = ByteCounts{
		Scanned: n.scannedBytes.Load(), Transferred: n.transferredBytes.Load(),
		Read: n.read.Load(), Literal: n.literal.Load(), Matched: n.matched.Load(),
	}
	r.Vanished = n.classes[ClassVanished].Load()
	r.Errors.ByClass = ErrorCounts{
		IO: n.classes[ClassIO].Load(), Permission: n.classes[ClassPermission].Load(),
		NoSpace: n.classes[ClassNoSpace].Load(), Transient: n.classes[ClassTransient].Load(),
		Canceled: n.classes[ClassCanceled].Load(), Other: n.classes[ClassOther].Load(),
	}
	r.Errors.Total = r.Errors.ByClass.Total()
}

// WriteJSON writes r to w in its stable JSON form, indented by two spaces
// and ending with a newline.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// ReadReport decodes a Report written by WriteJSON, or by json.Marshal. It
// ignores unknown fields, which a later writer of the same version may
// add, and fails on any version but ReportVersion.
func ReadReport(rd io.Reader) (Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return Report{}, fmt.Errorf("decode report: %w", err)
	}
	if r.Version != ReportVersion {
		return Report{}, fmt.Errorf("decode report: version %d, want %d", r.Version, ReportVersion)
	}
	return r, nil
}
