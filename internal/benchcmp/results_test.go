package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// output is go test's output for BenchmarkSync, as it prints it without
// -v (a "--- BENCH:" block per benchmark) and with -v (bare log lines).
const output = `goos: linux
BenchmarkSync/local/full-2    	       1	9453922854 ns/op	         7.797 MiB-rss-efsync	         1.734 s-efsync
--- BENCH: BenchmarkSync/local/full-2
    race.go:63: median BenchmarkSync/local/full efsync 1.733996s runs=3 rss=7.8MiB
    race.go:63: median BenchmarkSync/local/full rsync 2.438038s runs=3
    race.go:63: median BenchmarkSync/local/full fpsync 2.552741s runs=3
--- BENCH: BenchmarkSync/latency-1ms/nochange-2
    syncrace.go:110: changed 22 entries, appended 4 MiB to 2 big files
    race.go:63: median BenchmarkSync/latency-1ms/nochange efsync 0.5s runs=3 rss=6.9MiB
    race.go:63: median BenchmarkSync/latency-1ms/nochange floor 0.25s runs=3
    race.go:63: median BenchmarkSync/latency-1ms/nochange rsync 2s runs=3
=== RUN   BenchmarkSync/latency-1ms/full
    race.go:63: median BenchmarkSync/latency-1ms/full efsync 10.0s runs=3 rss=20.0MiB
    race.go:63: median BenchmarkSync/latency-1ms/full efsync-n8 20.0s runs=3 rss=10.0MiB
    race.go:63: median BenchmarkSync/latency-1ms/full fpsync 40.0s runs=3
not a median BenchmarkSync/x efsync 1s runs=3
PASS
`

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]median{}
	var names []string
	for _, b := range res {
		got[b.name] = b.medians
		names = append(names, b.name+":"+strings.Join(b.order, ","))
	}
	wantNames := []string{"BenchmarkSync/local/full:efsync,rsync,fpsync",
		"BenchmarkSync/latency-1ms/nochange:efsync,floor,rsync", "BenchmarkSync/latency-1ms/full:efsync,efsync-n8,fpsync"}
	if d := cmp.Diff(wantNames, names); d != "" {
		t.Errorf("benchmarks and contenders (-want +got):\n%s", d)
	}
	want := median{seconds: 1.733996, runs: 3, rssMiB: 7.8}
	if d := cmp.Diff(want, got["BenchmarkSync/local/full"]["efsync"], cmp.AllowUnexported(median{})); d != "" {
		t.Errorf("local/full efsync (-want +got):\n%s", d)
	}
}

func TestWriteTable(t *testing.T) {
	res, err := parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeTable(&b, res); err != nil {
		t.Fatal(err)
	}
	want := `| setting | case | efsync s | rsync s | fpsync s | floor s | x-vs-rsync | x-vs-fpsync | efsync ÷ floor | efsync peak RSS MiB | runs |
|---|---|---|---|---|---|---|---|---|---|---|
| local | full | 1.734 | 2.438 | 2.553 | – | 1.41× | 1.47× | – | 7.8 | 3 |
| latency-1ms | nochange | 0.500 | 2.000 | – | 0.250 | 4.00× | – | 2.00× | 6.9 | 3 |
| latency-1ms | full | 10.000 | – | 40.000 | – | – | 4.00× | – | 20.0 | 3 |
| latency-1ms | full (efsync -n 8) | 20.000 | – | 40.000 | – | – | 2.00× | – | 10.0 | 3 |
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}
}

func TestGoTestArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"defaults", nil, []string{"test", "-run", "^$", "-bench", "^BenchmarkSync$", "-benchtime", "3x", "-timeout", "2h", "."}},
		{"overridden and added", []string{"-benchtime=1x", "-bench", "Sync/local", "-v"},
			[]string{"test", "-run", "^$", "-timeout", "2h", "-benchtime=1x", "-bench", "Sync/local", "-v", "."}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, goTestArgs(tt.args)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}
