package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/efsync/efsync"
)

// restoreFlags are the flags of agent restore.
type restoreFlags struct {
	engineFlags
	overwrite, del bool
}

func newRestoreFlags(out io.Writer) (*flag.FlagSet, *restoreFlags) {
	f := &restoreFlags{}
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(out)
	f.register(fs, false)
	fs.BoolVar(&f.overwrite, "overwrite", false, "write over an existing TARGET, deleting nothing there")
	fs.BoolVar(&f.del, "delete", false, "also delete from the TARGET directory what the snapshot lacks (implies --overwrite)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent restore [flags] REPO ID[/PATH] TARGET")
		fmt.Fprintln(w, "\nCopies snapshot ID of REPO, or the directory or file PATH in it, to TARGET,")
		fmt.Fprintln(w, "exactly. TARGET must not exist, or be an empty directory, unless --overwrite.")
		fmt.Fprintln(w, "Flags go before REPO.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// restoreCmd is agent restore.
func restoreCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newRestoreFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("restore", fs.Args(), 3, "REPO", "ID[/PATH]", "TARGET")
	var o efsync.Options
	if err == nil {
		o, err = f.options(time.Now())
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "restore: %v\n", err)
		return 1
	}
	id, sub, _ := strings.Cut(a[1], "/")
	o.Logger = f.logger(e.stderr)
	o.Abort = e.abort
	pr := newProgress(e.stderr, e.term)
	o.Progress = pr.update
	rep, err := efsync.Restore(e.ctx, a[0], id, sub, a[2], efsync.RestoreOptions{Options: o, Overwrite: f.overwrite, Delete: f.del})
	pr.clear()
	return endReport(e, "restore", rep, err, f.asJSON)
}
