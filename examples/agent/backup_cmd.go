package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/efsync/efsync"
)

// keepFlags are the retention flags of backup and prune.
type keepFlags struct{ last, daily, weekly, monthly int }

func (k *keepFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&k.last, "keep", 0, "keep the newest `N` complete snapshots of the label (0 with no other --keep-*: keep all)")
	fs.IntVar(&k.daily, "keep-daily", 0, "also keep the newest snapshot of each of the last `N` days")
	fs.IntVar(&k.weekly, "keep-weekly", 0, "also keep the newest snapshot of each of the last `N` weeks")
	fs.IntVar(&k.monthly, "keep-monthly", 0, "also keep the newest snapshot of each of the last `N` months")
}

func (k *keepFlags) retention() efsync.Retention {
	return efsync.Retention{Last: k.last, Daily: k.daily, Weekly: k.weekly, Monthly: k.monthly}
}

// backupFlags are the flags of agent backup.
type backupFlags struct {
	engineFlags
	keep      keepFlags
	label     string
	maxShrink float64
	force     bool
	lockWait  time.Duration
	stateDir  string
}

func newBackupFlags(out io.Writer) (*flag.FlagSet, *backupFlags) {
	f := &backupFlags{}
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(out)
	f.register(fs, true)
	f.keep.register(fs)
	fs.StringVar(&f.label, "label", efsync.DefaultLabel, "the snapshot series, `NAME`: daily, hourly, ...; retention counts each apart")
	fs.Float64Var(&f.maxShrink, "max-shrink", 0.5, "mark a snapshot suspect, and prune nothing after it, if it has this `FRACTION` fewer entries than the one before")
	fs.BoolVar(&f.force, "force", false, "prune even after a suspect snapshot")
	fs.StringVar(&f.stateDir, "state-dir", "", "listen for agent stop in `DIR` (default $XDG_STATE_HOME/efsync or ~/.local/state/efsync)")
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "wait up to `D` for another backup or prune of REPO to end (default: fail at once)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent backup [flags] SRC REPO")
		fmt.Fprintln(w, "\nMakes a snapshot of SRC in the repository REPO, at REPO/LABEL/ID: files")
		fmt.Fprintln(w, "unchanged since the newest snapshot are hard links to it. A run that stops")
		fmt.Fprintln(w, "short makes no snapshot; the next goes on with its work. Then prunes by --keep.")
		fmt.Fprintln(w, "Flags go before SRC.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// backupCmd is agent backup.
func backupCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newBackupFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("backup", fs.Args(), 2, "SRC", "REPO")
	var o efsync.Options
	if err == nil {
		o, err = f.options(time.Now())
	}
	var src, repo string
	if err == nil {
		src, repo = a[0], a[1]
	}
	if err == nil && (f.maxShrink <= 0 || f.maxShrink >= 1) {
		err = fmt.Errorf("--max-shrink %g: want a fraction above 0 and below 1", f.maxShrink)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "backup: %v\n", err)
		return 1
	}
	o.Logger = f.logger(e.stderr)
	o.Abort = e.abort
	defer listenStop(e, f.stateDir, o.Logger, oneRun)()
	pr := newProgress(e.stderr, e.term)
	o.Progress = pr.update
	rec, err := efsync.Backup(e.ctx, src, repo, efsync.BackupOptions{Options: o, Label: f.label,
		Keep: f.keep.retention(), MaxShrink: f.maxShrink, Force: f.force, LockWait: f.lockWait})
	pr.clear()
	if rec == nil {
		fmt.Fprintf(e.stderr, "backup: %v\n", err)
		return exitFor(err)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "backup: %v\n", err)
	}
	for _, p := range rec.Failed {
		fmt.Fprintf(e.stderr, "backup: failed: %s\n", p)
	}
	if f.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rec)
	} else {
		writeRecord(e.stdout, rec)
	}
	return rec.Status.ExitCode()
}

// writeRecord prints a backup's record for people.
func writeRecord(w io.Writer, r *efsync.Record) {
	if r.Snapshot != "" {
		fmt.Fprintf(w, "Snapshot %s (%s): %s\n", r.ID, r.Label, r.Snapshot)
	} else {
		fmt.Fprintf(w, "Backup %s (%s): no snapshot made\n", r.ID, r.Label)
	}
	if r.Parent != "" {
		fmt.Fprintf(w, "Linked from: %s\n", r.Parent)
	}
	if r.Suspect {
		fmt.Fprintln(w, "Suspect: far fewer entries than the snapshot before; prune deletes nothing until --force")
	}
	r.Report.WriteText(w)
	if r.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", r.Reason)
	}
}
