package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/efsync/efsync/orchestrate/local"
)

// stopFlags are the flags of agent stop.
type stopFlags struct {
	stateDir string
	id       string
}

func newStopFlags(out io.Writer) (*flag.FlagSet, *stopFlags) {
	f := &stopFlags{}
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.stateDir, "state-dir", "", "the daemon's state directory, `DIR` (default $XDG_STATE_HOME/efsync or ~/.local/state/efsync)")
	fs.StringVar(&f.id, "id", "", "stop only the backup `ID`; the daemon goes on")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent stop [flags]")
		fmt.Fprintln(w, "\nAsks the daemon of the state directory to stop gracefully, as SIGTERM does:")
		fmt.Fprintln(w, "its running backup ends within its grace period and is recorded incomplete.")
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// stopCmd is agent stop.
func stopCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newStopFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "stop: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	dir, err := stateDir(f.stateDir)
	if err != nil {
		fmt.Fprintf(e.stderr, "stop: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	answer, err := local.RequestStop(ctx, socketPath(dir), f.id)
	if err != nil {
		fmt.Fprintf(e.stderr, "stop: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "stop: %s\n", answer)
	return 0
}

// systemStateDir is the state directory of a root without a home: a
// systemd service's, and an SSM command's (SSM runs commands as root with
// no HOME), so that the SSM stop's agent stop finds agent run's socket.
const systemStateDir = "/var/lib/efsync"

// stateDir returns dir, or the default state directory: that of the
// engine's journals.
func stateDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "efsync"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil && os.Geteuid() == 0 {
		return systemStateDir, nil
	}
	if err != nil {
		return "", fmt.Errorf("no state directory: %w; use --state-dir", err)
	}
	return filepath.Join(home, ".local", "state", "efsync"), nil
}

// socketPath returns the path of the daemon's stop socket in dir.
func socketPath(dir string) string { return filepath.Join(dir, "daemon.sock") }

// listenStop makes agent stop reach this run, as it reaches a daemon: a
// request on the state directory's socket stops it as the first signal
// does, if accept takes its id ("" for any run); else the requester is
// answered accept's error. Where a daemon holds the socket, or it can't
// be made, only signals stop the run (a warning says so). The returned
// func closes the socket.
func listenStop(e *env, dir string, log *slog.Logger, accept func(id string) error) (closeSocket func()) {
	if e.stop == nil { // run in-process by a test: nothing to stop
		return func() {}
	}
	dir, err := stateDir(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	var ln net.Listener
	if err == nil {
		ln, err = local.ListenStop(socketPath(dir))
	}
	if err != nil {
		log.Warn("agent stop can't reach this run; SIGTERM stops it", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(e.ctx))
	served := make(chan struct{})
	go func() {
		defer close(served)
		local.ServeStop(ctx, ln, func(id string) (string, error) {
			if err := accept(id); err != nil {
				return "", err
			}
			e.stop()
			return "stopping", nil
		})
	}()
	return func() { cancel(); <-served }
}

// oneRun accepts the stop requests of a run with no id of its own: those
// without --id.
func oneRun(id string) error {
	if id != "" {
		return fmt.Errorf("this is one backup, not a daemon: stop it without --id")
	}
	return nil
}
