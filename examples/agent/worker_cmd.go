package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate/aws"
)

// workerFlags are the flags of agent worker.
type workerFlags struct {
	queue     string
	workers   int
	heartbeat time.Duration
	id        string
	verbose   bool
}

// newWorkerFlags returns the flag set of agent worker, writing its
// messages to out, and the values it fills.
func newWorkerFlags(out io.Writer) (*flag.FlagSet, *workerFlags) {
	f := &workerFlags{}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.queue, "queue", "", "take partitions from the SQS queue `URL`, and report to URL-done")
	fs.IntVar(&f.workers, "n", 0, "copy with `N` workers at once (default 8 × CPUs)")
	fs.DurationVar(&f.heartbeat, "heartbeat", 10*time.Second, "extend a partition's visibility every `D`, by 3 × D")
	fs.StringVar(&f.id, "id", "", "name this worker `NAME` in its reports (default the host name and pid)")
	fs.BoolVar(&f.verbose, "v", false, "log what is done to stderr")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent worker --queue URL [flags]")
		fmt.Fprintln(w, "\nCopies the partitions that agent sync --queue URL publishes, like fpsync's")
		fmt.Fprintln(w, "-w workers, until stopped by a signal. SRC and DST come with each partition,")
		fmt.Fprintln(w, "as every host mounts them.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// workerCmd is agent worker.
func workerCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newWorkerFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	if f.queue == "" || fs.NArg() > 0 || f.workers < 0 || f.heartbeat <= 0 {
		fmt.Fprintln(e.stderr, "worker: want --queue URL, no arguments, -n ≥ 0 and a positive --heartbeat")
		return 1
	}
	q, err := openQueue(e.ctx, f.queue)
	if err != nil {
		fmt.Fprintf(e.stderr, "worker: %v\n", err)
		return 4
	}
	if f.id == "" {
		host, _ := os.Hostname()
		f.id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	ef := engineFlags{verbose: f.verbose}
	o := efsync.Options{Workers: f.workers, Heartbeat: f.heartbeat, WorkerID: f.id, Logger: ef.logger(e.stderr)}
	if err := efsync.Work(e.ctx, q, efsync.WithOptions(o)); err != nil {
		fmt.Fprintf(e.stderr, "worker: %v\n", err)
		return 4
	}
	return 0
}

// openQueue returns the SQS queue url, with the environment's AWS
// configuration (AWS_ENDPOINT_URL_SQS for another endpoint).
func openQueue(ctx context.Context, url string) (efsync.Queue, error) {
	cfg, err := aws.LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	return aws.OpenQueue(cfg, url), nil
}
