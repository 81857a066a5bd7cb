package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/efsync/efsync/kpi"
)

// progress shows a run's progress: a line redrawn on a terminal, or a log
// line every logEvery elsewhere (a file, a journal).
type progress struct {
	w    io.Writer
	term bool

	mu     sync.Mutex
	last   time.Time // when a line was last logged
	drawn  bool      // a line is on the terminal
	closed bool
}

const logEvery = 30 * time.Second

func newProgress(w io.Writer, term bool) *progress {
	return &progress{w: w, term: term, last: time.Now()}
}

// update shows r; efsync calls it every second.
func (p *progress) update(r kpi.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.term {
		fmt.Fprintf(p.w, "\r\x1b[K%s", progressLine(r))
		p.drawn = true
		return
	}
	if time.Since(p.last) >= logEvery {
		p.last = time.Now()
		fmt.Fprintf(p.w, "progress: %s\n", progressLine(r))
	}
}

// clear removes the line from the terminal, for the final report.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// progressLine says how far r is: entries done (of the total, once the
// crawl has counted them all: it never guesses), data copied, the rate,
// and an ETA once the total is known.
func progressLine(r kpi.Report) string {
	f := r.Files
	done := f.Created + f.Updated + f.HardLinked + f.Unchanged + f.MetadataOnly + f.Failed + f.Skipped
	secs := r.Seconds
	rate := 0.0
	if secs > 0 {
		rate = float64(r.Bytes.Read) / secs
	}
	s := fmt.Sprintf("%s entries", commas(done))
	total, known := crawlTotal(r)
	if known {
		s = fmt.Sprintf("%s/%s entries", commas(done), commas(total))
	} else {
		s += " (crawling)"
	}
	s += fmt.Sprintf(", %s copied, %s/s", bytesIEC(r.Bytes.Read), bytesIEC(int64(rate)))
	if known && done > 0 && done < total && secs > 0 {
		eta := time.Duration(float64(total-done) / (float64(done) / secs) * float64(time.Second))
		s += ", ETA " + eta.Round(time.Second).String()
	}
	if n := r.Errors.Total; n > 0 {
		s += fmt.Sprintf(", %d errors", n)
	}
	return s
}

// crawlTotal returns the entries the crawl found, once it has ended.
func crawlTotal(r kpi.Report) (int64, bool) {
	for _, p := range r.Phases {
		if p.Name == "crawl" && !p.Running {
			return r.Scanned.Total(), true
		}
	}
	return 0, false
}

// bytesIEC formats n bytes with a binary unit: 1.5 GiB.
func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// commas formats n with thousands separators: 1,234,567.
func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
