package kpi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

func TestGolden(t *testing.T) {
	r := fixedReport(t)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"report.golden.json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{"report.golden.txt", func(b *bytes.Buffer) error { return r.WriteText(b) }},
		{"report.golden.prom", func(b *bytes.Buffer) error { return r.WritePrometheus(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestFixedReport(t *testing.T) {
	r := fixedReport(t)
	if r.Scanned.Total() != 11 || r.Bytes.Scanned != 1238134 {
		t.Errorf("NumberOfFiles = %d, TotalFileSize = %d; want 11, 1238134", r.Scanned.Total(), r.Bytes.Scanned)
	}
	if r.Files.Transferred != 3 || r.Bytes.Transferred != 3500 {
		t.Errorf("NumberOfFilesTransferred = %d, TotalTransferredFileSize = %d; want 3, 3500",
			r.Files.Transferred, r.Bytes.Transferred)
	}
	if len(r.Partitions) != 2 || r.Partitions[0].ID != 1 || r.Partitions[0].Seconds != 478.4 {
		t.Errorf("Partitions = %+v, want IDs 1, 2, the first 478.4 s", r.Partitions)
	}
	if r.Errors.Total != 3 || len(r.Errors.First) != 2 {
		t.Errorf("Errors: total %d, kept %d; want 3, 2", r.Errors.Total, len(r.Errors.First))
	}
}

func TestJSONRoundTrip(t *testing.T) {
	clk := &clock{t: t0.Add(123456789 * time.Nanosecond)}
	running := kpi.New(kpi.Options{RunID: "running", Now: clk.now})
	running.StartPhase("crawl")
	running.Scanned(kpi.TypeFile, 1)
	clk.at(time.Second)
	tests := []struct {
		name string
		r    kpi.Report
	}{
		{"finished", fixedReport(t)},
		{"running", running.Report()},
		{"nil counters", (*kpi.Counters)(nil).Report()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.r.WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "null") {
				t.Errorf("JSON has a null:\n%s", b.String())
			}
			got, err := kpi.ReadReport(&b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.r, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONTimesUTCNano(t *testing.T) {
	local := time.FixedZone("CET", 3600)
	clk := &clock{t: t0.Add(5 * time.Nanosecond).In(local)}
	b, err := json.Marshal(kpi.New(kpi.Options{Now: clk.now}).Report())
	if err != nil {
		t.Fatal(err)
	}
	if want := `"start":"2026-11-28T02:00:00.000000005Z"`; !strings.Contains(string(b), want) {
		t.Errorf("JSON %s does not contain %s", b, want)
	}
	if strings.Contains(string(b), `"stop"`) {
		t.Errorf("JSON %s has a stop before Finish", b)
	}
}

func TestReadReportErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not json", "{", "decode report: unexpected EOF"},
		{"version 2", `{"version": 2}`, "decode report: version 2, want 1"},
		{"no version", `{}`, "decode report: version 0, want 1"},
		{"bad class", `{"version": 1, "errors": {"first": [{"class": "bogus"}]}}`, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kpi.ReadReport(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadReport(%s) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestReadReportIgnoresNewFields(t *testing.T) {
	r, err := kpi.ReadReport(strings.NewReader(`{"version": 1, "run_id": "x", "added_later": 1}`))
	if err != nil || r.RunID != "x" {
		t.Errorf("ReadReport = %+v, %v; want run_id x", r, err)
	}
}
