package local

import (
	"context"
	"os"
	"path/filepath"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// Textfile is an orchestrate.Metrics that writes the last backup's
// report, in the Prometheus text format, to Path: a NAME.prom file in
// node_exporter's textfile collector directory. Each write goes to a
// temporary file beside it, renamed over it, so the collector never reads
// half a file.
type Textfile struct {
	Path string
}

var _ orchestrate.Metrics = Textfile{}

// Publish writes rec's report, with the record's status (a backup that
// made no report, or was buried, still has one).
func (t Textfile) Publish(ctx context.Context, rec efsync.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := rec.Report
	r.Status = rec.Status
	if r.Start.IsZero() {
		r.Start, r.Stop = rec.Start, rec.Stop
		r.Seconds = rec.Stop.Sub(rec.Start).Seconds()
	}
	if r.Source == "" {
		r.Source, r.Destination = rec.Source, rec.Repo
	}
	f, err := os.CreateTemp(filepath.Dir(t.Path), "."+filepath.Base(t.Path)+".*")
	if err != nil {
		return err
	}
	err = r.WritePrometheus(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), t.Path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
