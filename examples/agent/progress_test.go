package main

import (
	"strings"
	"testing"

	"github.com/efsync/efsync/kpi"
)

// TestProgressLineNeverGuessesTheTotal checks that the line shows a total
// and an ETA only once the crawl has ended.
func TestProgressLineNeverGuessesTheTotal(t *testing.T) {
	r := kpi.Report{Seconds: 10, Scanned: kpi.EntryCounts{File: 4000},
		Files: kpi.FileCounts{Created: 1000}, Bytes: kpi.ByteCounts{Read: 20 << 20},
		Phases: []kpi.Phase{{Name: "copy", Running: true}, {Name: "crawl", Running: true}}}
	got := progressLine(r)
	if want := "1,000 entries (crawling), 20.0 MiB copied, 2.0 MiB/s"; got != want {
		t.Errorf("crawling: %q, want %q", got, want)
	}
	r.Phases[1].Running = false
	got = progressLine(r)
	if want := "1,000/4,000 entries, 20.0 MiB copied, 2.0 MiB/s, ETA 30s"; got != want {
		t.Errorf("crawled: %q, want %q", got, want)
	}
	r.Errors.Total = 2
	if got := progressLine(r); !strings.HasSuffix(got, ", 2 errors") {
		t.Errorf("errors not shown: %q", got)
	}
}

func TestProgressLogsOffATerminal(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, false)
	p.update(kpi.Report{})
	if b.Len() != 0 {
		t.Errorf("logged before %s: %q", logEvery, b.String())
	}
	p.last = p.last.Add(-logEvery)
	p.update(kpi.Report{})
	if !strings.HasPrefix(b.String(), "progress: 0 entries") || strings.Contains(b.String(), "\r") {
		t.Errorf("log line: %q", b.String())
	}
	var tb strings.Builder
	p = newProgress(&tb, true)
	p.update(kpi.Report{})
	p.clear()
	if !strings.HasPrefix(tb.String(), "\r\x1b[K0 entries") || !strings.HasSuffix(tb.String(), "\r\x1b[K") {
		t.Errorf("terminal: %q", tb.String())
	}
}
