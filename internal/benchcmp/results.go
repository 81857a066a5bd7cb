package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// medianRe matches the line benchkit.MedianLine writes, alone or after
// testing's "file.go:NN: " prefix, so that other text holding the word
// median is not taken for one:
//
//	median BenchmarkSync/local/full efsync 1.234567s runs=3 rss=45.2MiB
var medianRe = regexp.MustCompile(`(?:^\s*|\.go:\d+: )median (\S+) (\S+) ([0-9.]+)s runs=(\d+)(?: rss=([0-9.]+)MiB)?\s*$`)

// median is one contender's result in one benchmark.
type median struct {
	seconds float64
	runs    int
	rssMiB  float64 // 0: not measured
}

// bench is one benchmark's medians, by contender.
type bench struct {
	name    string // BenchmarkSync/local/full
	order   []string
	medians map[string]median
}

// results are the benchmarks of one go test run, in the order they
// reported.
type results []*bench

// parse reads go test's output and returns every median line in it. Other
// lines are ignored; a benchmark that logs its medians twice (go test
// repeats the log of a benchmark run more than once) keeps the last.
func parse(r io.Reader) (results, error) {
	var res results
	byName := map[string]*bench{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := medianRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b := byName[m[1]]
		if b == nil {
			b = &bench{name: m[1], medians: map[string]median{}}
			byName[m[1]] = b
			res = append(res, b)
		}
		if _, ok := b.medians[m[2]]; !ok {
			b.order = append(b.order, m[2])
		}
		sec, err1 := strconv.ParseFloat(m[3], 64)
		runs, err2 := strconv.Atoi(m[4])
		var rss float64
		var err3 error
		if m[5] != "" {
			rss, err3 = strconv.ParseFloat(m[5], 64)
		}
		if err1 != nil || err2 != nil || err3 != nil {
			return res, fmt.Errorf("bad median line %q", sc.Text())
		}
		b.medians[m[2]] = median{seconds: sec, runs: runs, rssMiB: rss}
	}
	return res, sc.Err()
}

// settingCase splits a benchmark name, BenchmarkSync/SETTING/CASE, into
// its setting and case; a shorter name is all setting.
func settingCase(name string) (setting, cas string) {
	parts := strings.SplitN(name, "/", 3)
	switch len(parts) {
	case 3:
		return parts[1], parts[2]
	case 2:
		return parts[1], ""
	}
	return name, ""
}
