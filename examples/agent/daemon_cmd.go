package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/local"
)

// daemonFlags are the flags of agent daemon.
type daemonFlags struct {
	backupFlags
	schedule, stateDir   string
	window, margin       time.Duration
	now, notifySuccess   bool
	notifyURL, notifyCmd string
	metricsFile          string
}

func newDaemonFlags(out io.Writer) (*flag.FlagSet, *daemonFlags) {
	f := &daemonFlags{}
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(out)
	f.register(fs, true)
	f.keep.register(fs)
	fs.StringVar(&f.label, "label", efsync.DefaultLabel, "the snapshot series, `NAME`")
	fs.Float64Var(&f.maxShrink, "max-shrink", 0.5, "mark a snapshot suspect if it has this `FRACTION` fewer entries than the one before")
	fs.BoolVar(&f.force, "force", false, "prune even after a suspect snapshot")
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "wait up to `D` for another backup or prune of REPO to end")
	fs.StringVar(&f.schedule, "schedule", "", "when backups start: cron `SPEC` (\"0 2 * * *\"), @daily, @every 6h, ...")
	fs.DurationVar(&f.window, "window", 0, "stop each backup gracefully after `D` (3h); 0: no window")
	fs.DurationVar(&f.margin, "margin", 0, "send the window's stop `D` before its end")
	fs.BoolVar(&f.now, "now", false, "start a backup at once, then follow the schedule")
	fs.StringVar(&f.notifyURL, "notify-url", "", "POST a JSON notice to `URL` after each backup that is not a success")
	fs.StringVar(&f.notifyCmd, "notify-command", "", "run `CMD` (with sh -c) after each backup that is not a success, the notice as JSON on its stdin")
	fs.BoolVar(&f.notifySuccess, "notify-success", false, "send a notice after successes too")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write the last backup's metrics to `FILE` (a .prom for node_exporter's textfile collector)")
	fs.StringVar(&f.stateDir, "state-dir", "", "where the stop socket is, `DIR` (default $XDG_STATE_HOME/efsync or ~/.local/state/efsync)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent daemon --schedule SPEC [flags] SRC REPO")
		fmt.Fprintln(w, "\nBacks SRC up into REPO on a schedule, each backup within --window, then prunes")
		fmt.Fprintln(w, "by --keep. Records go to REPO's catalog, logs to REPO/.efsync/logs/ID.log.")
		fmt.Fprintln(w, "SIGTERM or `agent stop` stops it gracefully. Flags go before SRC.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// daemonCmd is agent daemon.
func daemonCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newDaemonFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	c, err := f.config(e, fs.Args())
	if err == nil {
		err = os.MkdirAll(f.stateDir, 0o700)
	}
	var d *local.Daemon
	if err == nil {
		d, err = local.NewDaemon(c)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "daemon: %v\n", err)
		return 1
	}
	c.Logger.Info("daemon started", "schedule", f.schedule, "source", c.Plan.Source, "repo", c.Plan.Repo, "socket", c.Socket)
	if err := d.Run(e.ctx); err != nil {
		fmt.Fprintf(e.stderr, "daemon: %v\n", err)
		return 1
	}
	return 0
}

// config returns the daemon's configuration from f and the arguments, or
// bad input.
func (f *daemonFlags) config(e *env, args []string) (local.Config, error) {
	var c local.Config
	a, err := positional("daemon", args, 2, "SRC", "REPO")
	if err != nil {
		return c, err
	}
	src, repo := a[0], a[1]
	if f.schedule == "" {
		return c, fmt.Errorf("--schedule is required")
	}
	if c.Schedule, err = local.ParseSchedule(f.schedule); err != nil {
		return c, err
	}
	if f.maxDuration != 0 {
		return c, fmt.Errorf("--max-duration: a daemon's backups end with --window")
	}
	if f.maxShrink <= 0 || f.maxShrink >= 1 {
		return c, fmt.Errorf("--max-shrink %g: want a fraction above 0 and below 1", f.maxShrink)
	}
	o, err := f.options(time.Now())
	if err != nil {
		return c, err
	}
	if f.stateDir, err = stateDir(f.stateDir); err != nil {
		return c, err
	}
	o.Abort = e.abort
	c.Plan = orchestrate.Plan{Label: f.label, Source: src, Repo: repo, Window: f.window, Margin: f.margin,
		Keep: f.keep.retention(), NotifySuccess: f.notifySuccess}
	c.Fleet = local.FleetOptions{Engine: o, MaxShrink: f.maxShrink, Force: f.force, LockWait: f.lockWait}
	var ns local.Notifiers
	if f.notifyURL != "" {
		ns = append(ns, local.Webhook{URL: f.notifyURL})
	}
	if f.notifyCmd != "" {
		ns = append(ns, local.Command{Argv: []string{"sh", "-c", f.notifyCmd}})
	}
	if len(ns) > 0 {
		c.Notifier = ns
	}
	c.StartNow, c.MetricsFile, c.Socket = f.now, f.metricsFile, socketPath(f.stateDir)
	level := slog.LevelInfo
	if f.asJSON {
		c.Logger = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	} else {
		c.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	}
	return c, nil
}
