package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/efsync/efsync"
)

// pruneFlags are the flags of agent prune.
type pruneFlags struct {
	keep     keepFlags
	label    string
	force    bool
	workers  int
	lockWait time.Duration
	verbose  bool
}

func newPruneFlags(out io.Writer) (*flag.FlagSet, *pruneFlags) {
	f := &pruneFlags{}
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(out)
	f.keep.register(fs)
	fs.StringVar(&f.label, "label", "", "prune only the snapshots of `NAME` (default: every label)")
	fs.BoolVar(&f.force, "force", false, "prune even when the newest snapshot is suspect")
	fs.IntVar(&f.workers, "n", 0, "delete with `N` calls at once (default 8 × CPUs)")
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "wait up to `D` for another backup or prune of REPO to end (default: fail at once)")
	fs.BoolVar(&f.verbose, "v", false, "log what is done to stderr")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent prune [flags] REPO")
		fmt.Fprintln(w, "\nDeletes the snapshots of REPO that the --keep flags don't keep; the newest")
		fmt.Fprintln(w, "complete snapshot of each label is always kept. Flags go before REPO.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// pruneCmd is agent prune.
func pruneCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newPruneFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("prune", fs.Args(), 1, "REPO")
	var repo string
	if err == nil {
		repo = a[0]
	}
	if err == nil && f.workers < 0 {
		err = fmt.Errorf("-n %d: want a positive count", f.workers)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "prune: %v\n", err)
		return 1
	}
	ef := engineFlags{verbose: f.verbose}
	gone, err := efsync.Prune(e.ctx, repo, efsync.PruneOptions{Label: f.label, Keep: f.keep.retention(),
		Force: f.force, Workers: f.workers, LockWait: f.lockWait, Logger: ef.logger(e.stderr)})
	for _, id := range gone {
		fmt.Fprintf(e.stdout, "pruned %s\n", id)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "prune: %v\n", err)
		return exitFor(err)
	}
	return 0
}
