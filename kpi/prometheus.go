package kpi

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WritePrometheus writes r to w in the Prometheus text exposition format
// (0.0.4), for node_exporter's textfile collector: write it to a temporary
// file in the collector's directory, then rename it to NAME.prom.
//
// Every metric is named efsync_* and typed gauge: each holds the value of
// the last run and is replaced by the next run, while a counter would be
// read as growing across runs. Labels are type, outcome, class, phase and
// status; the run id is left out, as a new series per run would grow the
// database without bound. Series repeated in r, such as two phases with one
// name, are written once, first one kept.
func (r Report) WritePrometheus(w io.Writer) error {
	pw := &promWriter{w: w}
	end := r.Stop
	if end.IsZero() {
		end = r.Start.Add(time.Duration(r.Seconds * float64(time.Second)))
	}
	pw.gauge("run_info", "Constant 1, labelled with the source and destination of the last run.",
		intSample(1, "source", r.Source, "destination", r.Destination))
	pw.gauge("run_status", "1 for the status of the last run, 0 for the others.", statusSamples(r.Status)...)
	pw.gauge("run_exit_code", "Exit code of the last run: 0 success, 2 partial, 3 incomplete, 4 failed.",
		intSample(int64(r.Status.ExitCode())))
	pw.gauge("run_start_timestamp_seconds", "Unix time the last run started.", timeSample(r.Start))
	pw.gauge("last_run_timestamp_seconds", "Unix time the last run stopped.", timeSample(end))
	pw.gauge("run_duration_seconds", "Duration of the last run.", floatSample(r.Seconds))

	pw.gauge("scanned_entries", "Entries found in the source, by type.", typeSamples(r.Scanned)...)
	pw.gauge("scanned_bytes", "Total size of the entries found in the source.", intSample(r.Bytes.Scanned))
	f := r.Files
	pw.gauge("files", "Entries handled by the copy, by outcome.",
		intSample(f.Created, "outcome", "created"), intSample(f.Updated, "outcome", "updated"),
		intSample(f.HardLinked, "outcome", "hard_linked"), intSample(f.Unchanged, "outcome", "unchanged"),
		intSample(f.MetadataOnly, "outcome", "metadata_only"), intSample(f.Failed, "outcome", "failed"),
		intSample(f.Skipped, "outcome", "skipped"))
	pw.gauge("files_transferred", "Regular files whose data was copied.", intSample(f.Transferred))
	pw.gauge("files_in_flight", "Entries started and not finished when the report was taken.", intSample(f.InFlight))
	pw.gauge("deleted_entries", "Entries deleted from the destination, by type.", typeSamples(r.Deleted)...)
	pw.gauge("vanished_entries", "Entries gone from the source during the run (not errors).", intSample(r.Vanished))

	pw.gauge("transferred_file_bytes", "Total size of the files transferred.", intSample(r.Bytes.Transferred))
	pw.gauge("read_bytes", "Bytes read from the source.", intSample(r.Bytes.Read))
	pw.gauge("literal_bytes", "Bytes written to the destination.", intSample(r.Bytes.Literal))
	pw.gauge("matched_bytes", "Bytes already at the destination and not rewritten.", intSample(r.Bytes.Matched))

	var errs []sample
	r.Errors.ByClass.each(func(c Class, n int64) { errs = append(errs, intSample(n, "class", c.String())) })
	pw.gauge("errors", "Errors, by class.", errs...)
	var phases []sample
	for _, p := range r.Phases {
		phases = append(phases, floatSample(p.Seconds, "phase", p.Name))
	}
	pw.gauge("phase_duration_seconds", "Duration of each phase of the last run.", phases...)
	keys, counts := partitionsByStatus(r.Partitions)
	var parts []sample
	for _, s := range keys {
		parts = append(parts, intSample(int64(counts[s]), "status", statusLabel(s)))
	}
	pw.gauge("partitions", "Partitions, by status.", parts...)
	if pw.err != nil {
		return fmt.Errorf("write prometheus metrics: %w", pw.err)
	}
	return nil
}

// sample is one line of a metric family: its labels, rendered and escaped,
// and its value.
type sample struct {
	labels string
	value  string
}

// intSample returns a sample of value v with the given label name, value
// pairs.
func intSample(v int64, kv ...string) sample {
	return sample{labels: promLabels(kv), value: strconv.FormatInt(v, 10)}
}

func floatSample(v float64, kv ...string) sample {
	return sample{labels: promLabels(kv), value: strconv.FormatFloat(v, 'f', -1, 64)}
}

// timeSample returns t as Unix seconds, in decimal with up to nine
// fractional digits: a float64 would round the nanoseconds.
func timeSample(t time.Time) sample {
	if t.IsZero() {
		return intSample(0)
	}
	if t.Unix() < 0 {
		return floatSample(float64(t.UnixNano()) / 1e9)
	}
	v := fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
	return sample{value: strings.TrimSuffix(strings.TrimRight(v, "0"), ".")}
}

func typeSamples(e EntryCounts) []sample {
	var out []sample
	for t, n := range e.array() {
		out = append(out, intSample(n, "type", EntryType(t).String()))
	}
	return out
}

// statusSamples returns a state set: 1 for s, 0 for the other statuses.
func statusSamples(s Status) []sample {
	keys := statuses[:]
	if !slices.Contains(keys, s) {
		keys = append(slices.Clone(keys), s)
	}
	var out []sample
	for _, k := range keys {
		v := int64(0)
		if k == s {
			v = 1
		}
		out = append(out, intSample(v, "status", statusLabel(k)))
	}
	return out
}

// promLabels renders label name, value pairs as {a="x",b="y"}, or "" for
// none.
func promLabels(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i] + `="` + labelEscaper.Replace(kv[i+1]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// promWriter writes metric families, keeping the first write error.
type promWriter struct {
	w   io.Writer
	err error
}

// gauge writes the family efsync_name with its HELP and TYPE lines, then
// its samples, each series once.
func (pw *promWriter) gauge(name, help string, samples ...sample) {
	if pw.err != nil || len(samples) == 0 {
		return
	}
	name = "efsync_" + name
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, helpEscaper.Replace(help), name)
	seen := make(map[string]bool, len(samples))
	for _, s := range samples {
		if seen[s.labels] {
			continue
		}
		seen[s.labels] = true
		fmt.Fprintf(&b, "%s%s %s\n", name, s.labels, s.value)
	}
	_, pw.err = io.WriteString(pw.w, b.String())
}
