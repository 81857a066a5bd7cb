package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// syncFlags are the flags of agent sync.
type syncFlags struct {
	engineFlags
	del, dryRun, listRuns bool
	fullCheck, inPlace    bool
	linkDest              listFlag
	stateDir, resume      string
	queue                 string
	maxDelete             string
}

// newSyncFlags returns the flag set of agent sync, writing its messages
// to out, and the values it fills.
func newSyncFlags(out io.Writer) (*flag.FlagSet, *syncFlags) {
	f := &syncFlags{}
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(out)
	f.register(fs, true)
	fs.BoolVar(&f.del, "E", false, "delete what SRC lacks from DST, where SRC was read completely")
	fs.BoolVar(&f.dryRun, "dry-run", false, "change nothing; list what would change, like rsync -n -i")
	fs.StringVar(&f.maxDelete, "max-delete", "", "fail, deleting nothing, if -E would delete more than `N` entries, or N% of DST")
	fs.StringVar(&f.stateDir, "state-dir", "", "keep run journals in `DIR` (default $XDG_STATE_HOME/efsync)")
	fs.StringVar(&f.resume, "resume", "", "copy again what run `RUNID` left failed or unfinished")
	fs.StringVar(&f.queue, "queue", "", "lead a run shared with agent worker --queue `URL` (SQS): publish the partitions, then delete and fix directories")
	fs.BoolVar(&f.listRuns, "list-runs", false, "list the runs of SRC to DST and exit")
	fs.BoolVar(&f.inPlace, "inplace", false, "rewrite only the changed blocks of a changed file of 1 MiB or more: into a clone renamed into place where the destination clones files (XFS, Btrfs), else in place (not atomic; a crash is repaired by the next run)")
	fs.Var(&f.linkDest, "link-dest", "hard-link files unchanged against snapshot `DIR` instead of copying them; repeatable")
	fs.BoolVar(&f.fullCheck, "full-check", false, "read every entry's xattrs and ACLs, even those unchanged since the last exact run")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent sync [flags] SRC DST")
		fmt.Fprintln(w, "\nMakes the contents of DST match those of SRC, as fpsync does: the crawl is")
		fmt.Fprintln(w, "cut into partitions that are copied in parallel while it goes on. Runs are")
		fmt.Fprintln(w, "journaled, so that --resume can finish one. Flags go before SRC.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// options returns the efsync.Options that f asks for, or bad input.
func (f *syncFlags) options(now time.Time) (efsync.Options, error) {
	o, err := f.engineFlags.options(now)
	if err != nil {
		return o, err
	}
	o.Delete, o.DryRun, o.StateDir, o.Resume = f.del, f.dryRun, f.stateDir, f.resume
	o.FullCheck, o.InPlace = f.fullCheck, f.inPlace
	for _, d := range f.linkDest {
		abs, err := filepath.Abs(d)
		if err != nil {
			return o, fmt.Errorf("--link-dest %s: %w", d, err)
		}
		o.LinkDest = append(o.LinkDest, abs)
	}
	if f.maxDelete != "" {
		n, pct, err := parseMaxDelete(f.maxDelete)
		if err != nil {
			return o, err
		}
		o.MaxDelete, o.MaxDeletePercent = n, pct
	}
	return o, nil
}

// parseMaxDelete parses --max-delete: a count, or a percentage ("5%").
func parseMaxDelete(v string) (n int64, pct float64, err error) {
	if s, ok := strings.CutSuffix(v, "%"); ok {
		pct, err = strconv.ParseFloat(s, 64)
		if err != nil || pct <= 0 || pct > 100 {
			return 0, 0, fmt.Errorf("--max-delete %q: want a count, or a percentage above 0 and at most 100", v)
		}
		return 0, pct, nil
	}
	n, err = strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("--max-delete %q: want a positive count, or a percentage such as 5%%", v)
	}
	return n, 0, nil
}

// syncCmd is agent sync.
func syncCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newSyncFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("sync", fs.Args(), 2, "SRC", "DST")
	var o efsync.Options
	if err == nil {
		o, err = f.options(time.Now())
	}
	var src, dst string
	if err == nil {
		src, dst = a[0], a[1]
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sync: %v\n", err)
		return 1
	}
	if f.listRuns {
		return listRuns(e, f.stateDir, src, dst)
	}
	o.Logger = f.logger(e.stderr)
	o.Abort = e.abort
	if f.queue != "" {
		if o.Queue, err = openQueue(e.ctx, f.queue); err != nil {
			fmt.Fprintf(e.stderr, "sync: %v\n", err)
			return 4
		}
	}
	var mu sync.Mutex // itemized lines come from several workers
	if f.dryRun {
		o.Itemize = func(line string) { mu.Lock(); fmt.Fprintln(e.stdout, line); mu.Unlock() }
	}
	pr := newProgress(e.stderr, e.term)
	o.Progress = pr.update
	rep, err := efsync.Sync(e.ctx, src, dst, efsync.WithOptions(o))
	pr.clear()
	return endReport(e, "sync", rep, err, f.asJSON)
}

// endReport prints how a run of command cmd ended, its failed entries to
// stderr and its report to stdout (as JSON with asJSON), and returns the
// exit code. A run without a report (bad input, or no start) exits 1 for
// bad input and 4 otherwise.
func endReport(e *env, cmd string, rep *kpi.Report, err error, asJSON bool) int {
	if rep == nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
		return exitFor(err)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
	}
	for _, er := range rep.Errors.First {
		fmt.Fprintf(e.stderr, "%s: %s: %s\n", cmd, er.Path, er.Message)
	}
	if asJSON {
		rep.WriteJSON(e.stdout)
	} else {
		rep.WriteText(e.stdout)
	}
	return rep.Status.ExitCode()
}

// listRuns prints the runs of src to dst, oldest first.
func listRuns(e *env, stateDir, src, dst string) int {
	runs, err := efsync.Runs(stateDir, src, dst)
	if err != nil {
		fmt.Fprintf(e.stderr, "sync: %v\n", err)
		return 1
	}
	if len(runs) == 0 {
		fmt.Fprintf(e.stderr, "sync: no runs of %s to %s\n", src, dst)
	}
	for _, r := range runs {
		fmt.Fprintln(e.stdout, r)
	}
	return 0
}
