package kpi_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/kpi"
)

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// series is one parsed sample line.
type series struct {
	name   string
	labels map[string]string
	value  string
}

// lintExposition checks text against the Prometheus text format 0.0.4 and
// returns the problems found, and the samples.
func lintExposition(text string) (problems []string, samples []series) {
	if !strings.HasSuffix(text, "\n") {
		problems = append(problems, "does not end with a newline")
	}
	typed, helped, ended := map[string]bool{}, map[string]bool{}, map[string]bool{}
	seen := map[string]bool{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("line %d %q: ", i+1, line)+fmt.Sprintf(format, args...))
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, name, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(name, " ")
			switch kind {
			case "HELP", "TYPE":
				m := map[string]map[string]bool{"HELP": helped, "TYPE": typed}[kind]
				if m[name] || ended[name] {
					bad("second %s for %s", kind, name)
				}
				m[name] = true
			}
			if kind == "TYPE" && !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, arg) {
				bad("unknown type %q", arg)
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			bad("%v", err)
			continue
		}
		if !typed[s.name] {
			bad("no # TYPE before the first sample of %s", s.name)
		}
		if s.name != current {
			if ended[s.name] {
				bad("samples of %s are not together", s.name)
			}
			ended[current], current = true, s.name
		}
		key := s.name + fmt.Sprint(s.labels) // fmt sorts map keys
		if seen[key] {
			bad("duplicate series")
		}
		seen[key] = true
		samples = append(samples, s)
	}
	return problems, samples
}

// parseSample parses `name{a="x",b="y"} value`, unescaping label values.
func parseSample(line string) (series, error) {
	s := series{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name, line = line[:end], line[end:]
	if !metricName.MatchString(s.name) {
		return s, fmt.Errorf("bad metric name %q", s.name)
	}
	if strings.HasPrefix(line, "{") {
		rest, err := parseLabels(line[1:], s.labels)
		if err != nil {
			return s, err
		}
		line = rest
	}
	value, ok := strings.CutPrefix(line, " ")
	if !ok || strings.Contains(value, " ") {
		return s, fmt.Errorf("want one space and a value, no timestamp, got %q", line)
	}
	if _, err := strconv.ParseFloat(value, 64); err != nil {
		return s, fmt.Errorf("bad value: %w", err)
	}
	s.value = value
	return s, nil
}

// parseLabels parses `a="x",b="y"}` into m and returns what follows.
func parseLabels(in string, m map[string]string) (string, error) {
	for {
		name, rest, ok := strings.Cut(in, `="`)
		if !ok || !labelName.MatchString(name) {
			return "", fmt.Errorf("bad label name in %q", in)
		}
		if _, dup := m[name]; dup {
			return "", fmt.Errorf("label %s twice", name)
		}
		var v strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] != '\\' {
				v.WriteByte(rest[i])
				continue
			}
			i++
			unescaped, ok := map[byte]byte{'\\': '\\', '"': '"', 'n': '\n'}[rest[min(i, len(rest)-1)]]
			if i >= len(rest) || !ok {
				return "", fmt.Errorf("bad escape in %q", rest)
			}
			v.WriteByte(unescaped)
		}
		if i >= len(rest) {
			return "", fmt.Errorf("unterminated label value %q", rest)
		}
		m[name] = v.String()
		switch rest = rest[i+1:]; {
		case strings.HasPrefix(rest, ","):
			in = rest[1:]
		case strings.HasPrefix(rest, "}"):
			return rest[1:], nil
		default:
			return "", fmt.Errorf("want , or } in %q", rest)
		}
	}
}

func TestLintExpositionCatches(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"no type", "efsync_a 1\n"},
		{"bad name", "# TYPE 1a gauge\n1a 1\n"},
		{"bad escape", "# TYPE a gauge\na{x=\"\\t\"} 1\n"},
		{"raw quote", "# TYPE a gauge\na{x=\"a\"b\"} 1\n"},
		{"duplicate", "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n"},
		{"split family", "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"\"} 1\n"},
		{"bad value", "# TYPE a gauge\na one\n"},
		{"no newline", "# TYPE a gauge\na 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if problems, _ := lintExposition(tt.text); len(problems) == 0 {
				t.Errorf("no problem found in %q", tt.text)
			}
		})
	}
}

func TestPrometheusWellFormed(t *testing.T) {
	weird := "/mnt/a \"b\"\\c\nd"
	tests := []struct {
		name string
		r    kpi.Report
	}{
		{"fixed", fixedReport(t)},
		{"running, awkward labels", kpi.Report{
			Version: 1, Source: weird, Destination: "é ü", Status: "", Start: t0, Seconds: 2.5,
			Phases:     []kpi.Phase{{Name: weird, Seconds: 1}, {Name: weird, Seconds: 2}, {Name: "x", Seconds: 3}},
			Partitions: []kpi.Partition{{ID: 1, Status: ""}, {ID: 2, Status: "odd"}, {ID: 3, Status: "odd"}},
		}},
		{"empty", kpi.Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.r.WritePrometheus(&b); err != nil {
				t.Fatal(err)
			}
			problems, samples := lintExposition(b.String())
			for _, p := range problems {
				t.Error(p)
			}
			values := map[string]string{}
			for _, s := range samples {
				if !strings.HasPrefix(s.name, "efsync_") {
					t.Errorf("metric %s lacks the efsync_ prefix", s.name)
				}
				values[s.name+fmt.Sprint(s.labels)] = s.value
			}
			if _, ok := values["efsync_last_run_timestamp_seconds"+fmt.Sprint(map[string]string{})]; !ok {
				t.Error("no efsync_last_run_timestamp_seconds")
			}
			if tt.r.Source != weird {
				return
			}
			for key, want := range map[string]string{
				"efsync_run_info" + fmt.Sprint(map[string]string{"source": weird, "destination": "é ü"}): "1",
				"efsync_phase_duration_seconds" + fmt.Sprint(map[string]string{"phase": weird}):          "1",
				"efsync_partitions" + fmt.Sprint(map[string]string{"status": "odd"}):                     "2",
				"efsync_partitions" + fmt.Sprint(map[string]string{"status": "unknown"}):                 "1",
				"efsync_last_run_timestamp_seconds" + fmt.Sprint(map[string]string{}):                    fmt.Sprintf("%d.5", t0.Unix()+2),
			} {
				if got := values[key]; got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
		})
	}
}

// TestPrometheusTimestamp checks the unit of the timestamps: seconds.
func TestPrometheusTimestamp(t *testing.T) {
	r := kpi.Report{Start: t0, Stop: t0.Add(90 * time.Second), Seconds: 90}
	var b bytes.Buffer
	if err := r.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("efsync_last_run_timestamp_seconds %d\n", t0.Unix()+90)
	if !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}
