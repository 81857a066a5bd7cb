package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testenv"
	"github.com/efsync/efsync/internal/testtree"
)

// Tree builds the tree o describes in a new temporary directory of tb and
// returns its path.
func Tree(tb testing.TB, o testtree.Options) string {
	tb.Helper()
	dir := testtree.TempDir(tb)
	if _, err := testtree.Plan(o).Build(dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Cmd runs a program to completion and returns its peak RSS in bytes. Its
// output is returned in the error when it fails.
//
// The peak is VmHWM read from /proc while the program runs, every 10 ms. The
// child's rusage can't serve: Go starts children with vfork, and Linux then
// folds the parent's own peak into the child's ru_maxrss.
func Cmd(ctx context.Context, name string, args ...string) (rss int64, err error) {
	var out bytes.Buffer
	c := exec.CommandContext(ctx, name, args...)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	peak := make(chan int64)
	go func() { peak <- watchHWM(c.Process.Pid, done) }()
	err = c.Wait()
	close(done)
	rss = <-peak
	if err != nil {
		return rss, fmt.Errorf("%s %q: %w\n%s", name, args, err, out.Bytes())
	}
	return rss, nil
}

// watchHWM returns the highest VmHWM of process pid read until done closes.
func watchHWM(pid int, done <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for line := range strings.Lines(string(b)) {
				if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
					peak = max(peak, n<<10)
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-t.C:
		}
	}
}

// Tools returns the paths of the named programs, skipping or failing tb as
// testenv does when one is missing.
func Tools(tb testing.TB, names ...string) []string {
	tb.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = testenv.Tool(tb, n)
	}
	return paths
}
