package benchkit

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Race times several contenders in turn, in the same benchmark, and reports
// their ratios. It is not safe for concurrent use.
type Race struct {
	b     *testing.B
	order []string
	times map[string][]time.Duration
	rss   map[string]int64
}

// NewRace returns a Race for b. b's own timer is stopped around each
// contender's setup by the caller; Race reports its own metrics.
func NewRace(b *testing.B) *Race {
	return &Race{b: b, times: map[string][]time.Duration{}, rss: map[string]int64{}}
}

// Time runs f as the contender name, after a sync so that one contender's
// dirty pages are not written back on another's clock. A failure fails the
// benchmark.
func (r *Race) Time(name string, f func() error) time.Duration {
	r.b.Helper()
	unix.Sync()
	start := time.Now()
	err := f()
	d := time.Since(start)
	if err != nil {
		r.b.Fatalf("%s: %v", name, err)
	}
	if _, ok := r.times[name]; !ok {
		r.order = append(r.order, name)
	}
	r.times[name] = append(r.times[name], d)
	return d
}

// RSS records a contender's peak resident set, in bytes, as measured by the
// caller (for a child process, Cmd's result). The highest of the runs is
// kept.
func (r *Race) RSS(name string, bytes int64) { r.rss[name] = max(r.rss[name], bytes) }

// Median returns the median time of name's runs.
func (r *Race) Median(name string) time.Duration { return Median(r.times[name]) }

// Report reports, for the contender ours, its median in seconds, and for
// every other contender X the metric x-vs-X: X's median over ours, so that
// above 1 means ours is faster. It also logs every median as a MedianLine,
// which cmd benchcmp reads back.
func (r *Race) Report(ours string) {
	base := r.Median(ours)
	r.b.ReportMetric(base.Seconds(), "s-"+ours)
	for _, name := range r.order {
		m := r.Median(name)
		r.b.Log(MedianLine(r.b.Name(), name, m, len(r.times[name]), r.rss[name]))
		if name != ours && base > 0 {
			r.b.ReportMetric(float64(m)/float64(base), "x-vs-"+name)
		}
		if rss := r.rss[name]; rss > 0 {
			r.b.ReportMetric(float64(rss)/(1<<20), "MiB-rss-"+name)
		}
	}
}

// Median returns the median of ds; zero for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MedianLine formats one contender's result as a line that stays stable
// for programs to parse (benchcmp), whatever the file:line prefix testing
// puts before it:
//
//	median BenchmarkSync/local/full efsync 1.234567s runs=3 rss=45.2MiB
//
// bench is the full benchmark name (b.Name(), without the -CPUS suffix),
// so the line means the same wherever go test prints it; rss=... is left
// out when rss is 0 (not measured).
func MedianLine(bench, name string, median time.Duration, runs int, rss int64) string {
	line := fmt.Sprintf("median %s %s %.6fs runs=%d", bench, name, median.Seconds(), runs)
	if rss > 0 {
		line += fmt.Sprintf(" rss=%.1fMiB", float64(rss)/(1<<20))
	}
	return line
}
