package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/efsync/efsync/internal/testtree"
)

// maxDiffs is how many differences Exact lists: enough to see the pattern.
const maxDiffs = 20

// Exact returns nil if dst is an exact copy of src, by the comparator
// (with opt) and by rsync, and otherwise an error that lists the first
// differences. The rsync oracle is the README's:
// `rsync -aHX --numeric-ids -c --modify-window=-1 -n --delete -i` must
// list nothing. It reads both trees whole (content included): call it
// outside the timed part of a benchmark.
func Exact(ctx context.Context, src, dst string, opt testtree.CompareOptions) error {
	diffs, err := testtree.Compare(ctx, src, dst, opt)
	if err != nil {
		return err
	}
	var errs []error
	for i, d := range diffs {
		if i == maxDiffs {
			errs = append(errs, fmt.Errorf("comparator: ... %d differences in all", len(diffs)))
			break
		}
		errs = append(errs, fmt.Errorf("comparator: %s", d))
	}
	out, err := exec.CommandContext(ctx, "rsync", "-aHX", "--numeric-ids", "-c", "--modify-window=-1",
		"-n", "--delete", "-i", src+"/", dst+"/").CombinedOutput()
	if err != nil {
		errs = append(errs, fmt.Errorf("rsync oracle: %w\n%s", err, out))
	} else if list := strings.TrimSpace(string(out)); list != "" {
		lines := strings.Split(list, "\n")
		errs = append(errs, fmt.Errorf("rsync oracle lists %d differences:\n%s", len(lines),
			strings.Join(lines[:min(len(lines), maxDiffs)], "\n")))
	}
	return errors.Join(errs...)
}

// Reset makes dst (created if missing) an exact copy of ref, untimed
// setup between a benchmark's runs: rsync -aH --delete as BENCHMARKS.md
// does, plus what that alone leaves behind, so that every run starts from
// the same tree. -X removes xattrs a run added; --modify-window=-1
// compares mtimes to the nanosecond, so a file rewritten within the same
// second is put back too; --numeric-ids keeps owners as numbers.
func Reset(ctx context.Context, ref, dst string) error {
	_, err := Cmd(ctx, "rsync", "-aHX", "--numeric-ids", "--modify-window=-1", "--delete", ref+"/", dst+"/")
	return err
}
