// Command agent is efsync's command-line agent. Each subcommand is in a
// file of its own (partition_cmd.go, sync_cmd.go, ...).
//
// Exit codes, the same for every subcommand: 0 success; 1 usage error or
// bad input (a missing source, say), found before anything is touched; 2
// done, but some entries failed (Partial); 3 stopped by the deadline or a
// signal (Incomplete); 4 a fatal error (Failed).
//
// The first SIGINT or SIGTERM stops a run gracefully: no new work starts,
// and work in flight may finish within a grace period. A second aborts it
// at once; temporary files are removed either way.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/sys/unix"
)

// command is one subcommand: run parses args (without the subcommand's
// name) and returns the exit code.
type command struct {
	name    string
	summary string
	run     func(env *env, args []string) int
}

// env is what a command runs with.
type env struct {
	ctx            context.Context // done at the first signal: stop gracefully
	stop           func()          // does what the first signal does
	abort          <-chan struct{} // closed at the second: stop now
	stdout, stderr io.Writer
	term           bool // stderr is a terminal: draw progress on it
}

// commands lists the subcommands, in the order usage shows them.
var commands = []command{
	{"sync", "make DST a mirror of SRC, like fpsync", syncCmd},
	{"backup", "make a snapshot of SRC in a repository, then prune", backupCmd},
	{"snapshots", "list a repository's snapshots (alias: list)", snapshotsCmd},
	{"list", "", snapshotsCmd},
	{"restore", "copy a snapshot, or a path in it, to a new place", restoreCmd},
	{"prune", "delete the snapshots a retention policy doesn't keep", pruneCmd},
	{"verify", "check a snapshot against its manifest, or its source", verifyCmd},
	{"daemon", "back up on a schedule, each backup within a window", daemonCmd},
	{"stop", "ask a running daemon to stop gracefully", stopCmd},
	{"worker", "copy the partitions of runs shared through a queue (fpsync -w)", workerCmd},
	{"run", "run the job an orchestrator started this machine for (--aws)", runCmd},
	{"partition", "crawl a tree and print its partitions, like fpart -L", partitionCmd},
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A run makes small objects by the million and keeps few: a GC
		// target of 4× the live heap spends less CPU collecting, for a
		// few MiB (the peak RSS of a 100k-file sync stays near 50 MiB).
		debug.SetGCPercent(400)
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	go func() {
		<-sig
		cancel()
		<-sig
		close(abort)
	}()
	_, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS)
	code := run(&env{ctx: ctx, stop: cancel, abort: abort, stdout: os.Stdout, stderr: os.Stderr, term: err == nil}, os.Args[1:])
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(e *env, args []string) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		usage(stderr)
		return 1
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "agent: unknown command %q (agent -h lists them)\n", args[0])
	return 1
}

// usage prints the list of subcommands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: agent COMMAND [flags] ARGS")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		if c.summary != "" { // an alias
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\n'agent COMMAND -h' shows a command's flags.")
	fmt.Fprintln(w, "exit codes: 0 success, 1 usage error or bad input, 2 some entries failed,")
	fmt.Fprintln(w, "3 stopped by the deadline or a signal, 4 failed.")
}
