// Command benchcmp runs efsync's sync comparison (BenchmarkSync in the
// module root) and prints a markdown table of its medians: a row per
// setting and case, with efsync, rsync, fpsync and the floor side by side,
// their ratios, and efsync's peak RSS. From the module root:
//
//	go run ./internal/benchcmp [go test flags]
//
// It runs `go test -run '^$' -bench '^BenchmarkSync$' -benchtime 3x
// -timeout 2h .`; the flags given replace those defaults (-bench,
// -benchtime, -timeout) or are added (-v, -count, ...). go test's output
// goes to stderr as it comes; the table, read from the benchmark's median
// lines (benchkit.MedianLine), to stdout. The exit status is go test's.
//
//	EFSYNC_BENCH_FILES=2000 go run ./internal/benchcmp -benchtime 1x   # a smoke test
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// defaults are go test's flags unless the caller gives them.
var defaults = [][2]string{{"bench", "^BenchmarkSync$"}, {"benchtime", "3x"}, {"timeout", "2h"}}

func main() {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
	var out bytes.Buffer
	cmd := exec.Command("go", goTestArgs(os.Args[1:])...)
	cmd.Dir = root
	cmd.Stdout = io.MultiWriter(os.Stderr, &out)
	cmd.Stderr = cmd.Stdout
	runErr := cmd.Run()
	res, err := parse(&out)
	if err == nil {
		err = writeTable(os.Stdout, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "benchcmp: go test:", runErr)
		os.Exit(1)
	}
}

// goTestArgs returns go test's arguments: the defaults that args don't
// override, then args.
func goTestArgs(args []string) []string {
	given := map[string]bool{}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") {
			given[strings.TrimPrefix(name, "test.")] = true
		}
	}
	out := []string{"test", "-run", "^$"}
	for _, d := range defaults {
		if !given[d[0]] {
			out = append(out, "-"+d[0], d[1])
		}
	}
	return append(append(out, args...), ".")
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not in a Go module (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}
