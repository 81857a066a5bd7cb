package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/efsync/efsync"
)

// runFlags are the flags of agent run.
type runFlags struct {
	engineFlags
	keep         keepFlags
	aws          bool
	res          cloudConfig
	recordDays   int
	window       time.Duration
	completeWait time.Duration
	maxShrink    float64
	force        bool
	lockWait     time.Duration
	stateDir     string
	queue        string
	jobPoll      time.Duration
	heartbeat    time.Duration
}

func newRunFlags(out io.Writer) (*flag.FlagSet, *runFlags) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(out)
	f.register(fs, true)
	f.keep.register(fs)
	fs.BoolVar(&f.aws, "aws", false, "run the job of an AWS stack (the only backend so far): DynamoDB, S3, Auto Scaling")
	fs.StringVar(&f.res.Table, "table", "", "the DynamoDB `TABLE` of the jobs' records")
	fs.StringVar(&f.res.Bucket, "bucket", "", "the S3 `BUCKET` of the logs")
	fs.StringVar(&f.res.Group, "group", "", "this instance's Auto Scaling `GROUP`")
	fs.StringVar(&f.res.Hook, "hook", "", "the group's terminate lifecycle `HOOK`")
	fs.IntVar(&f.recordDays, "record-days", 90, "keep records `N` days (the table's TTL)")
	fs.DurationVar(&f.window, "window", 0, "a job ends gracefully `D` after it was scheduled (3h); as the orchestrator's")
	fs.DurationVar(&f.completeWait, "complete-wait", 10*time.Minute, "after the job, try for `D` to complete the instance's terminate lifecycle action")
	fs.Float64Var(&f.maxShrink, "max-shrink", 0.5, "mark a snapshot suspect if it has this `FRACTION` fewer entries than the one before")
	fs.BoolVar(&f.force, "force", false, "prune even after a suspect snapshot")
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "wait up to `D` for another backup or prune of the repository to end")
	fs.StringVar(&f.queue, "queue", "", "share each backup with the group's other agents through the SQS queue `URL` (and URL-done): the agent whose conditional write in the table wins leads, all copy")
	fs.DurationVar(&f.heartbeat, "heartbeat", 10*time.Second, "with --queue, extend a partition's visibility every `D`, by 3 × D")
	fs.DurationVar(&f.jobPoll, "job-poll", 15*time.Second, "read the job's stop request every `D` (SSM's stop may come before this agent listens); with --queue, a worker reads the job's record as often, to end with it")
	fs.StringVar(&f.stateDir, "state-dir", "", "listen for agent stop in `DIR` (default $XDG_STATE_HOME/efsync or ~/.local/state/efsync)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent run --aws [flags]")
		fmt.Fprintln(w, "\nRuns the job the orchestrator started this instance for: a backup, or a restore")
		fmt.Fprintln(w, "into a new directory that deletes nothing, within the window. Its log goes to the")
		fmt.Fprintln(w, "bucket and its record to the table, however it ends; then it scales its group to 0")
		fmt.Fprintln(w, "and completes the instance's terminate lifecycle action. SIGTERM or `agent stop`")
		fmt.Fprintln(w, "stops it gracefully. With --queue, the group's agents share each backup: one")
		fmt.Fprintln(w, "leads, publishing its partitions, and every agent copies them.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// runCmd is agent run.
func runCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs, f := newRunFlags(&msg)
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	o, err := f.check(fs.Args())
	if err != nil {
		fmt.Fprintf(e.stderr, "run: %v\n", err)
		return 1
	}
	c, err := newAWSCloud(e.ctx, f.res)
	if err != nil {
		fmt.Fprintf(e.stderr, "run: %v\n", err)
		return 1
	}
	if f.queue != "" {
		if o.Queue, err = openQueue(e.ctx, f.queue); err != nil {
			fmt.Fprintf(e.stderr, "run: %v\n", err)
			return 1
		}
	}
	return runJob(e, c, o)
}

// check returns the options of the run f asks for, or bad input.
func (f *runFlags) check(args []string) (jobOptions, error) {
	var o jobOptions
	var missing []string
	for _, x := range []struct{ name, v string }{{"--table", f.res.Table}, {"--bucket", f.res.Bucket},
		{"--group", f.res.Group}, {"--hook", f.res.Hook}} {
		if x.v == "" {
			missing = append(missing, x.name)
		}
	}
	switch {
	case len(args) > 0:
		return o, fmt.Errorf("unexpected argument %q: the job says what to copy", args[0])
	case !f.aws:
		return o, fmt.Errorf("--aws is required: the only backend agent run has")
	case len(missing) > 0:
		return o, fmt.Errorf("--aws needs %v", missing)
	case f.window <= 0:
		return o, fmt.Errorf("--window %s: want the orchestrator's window, a positive duration", f.window)
	case f.maxDuration != 0:
		return o, fmt.Errorf("--max-duration: a job ends with its --window")
	case f.jobPoll <= 0 || f.heartbeat <= 0:
		return o, fmt.Errorf("--job-poll %s, --heartbeat %s: want positive durations", f.jobPoll, f.heartbeat)
	case f.recordDays <= 0:
		return o, fmt.Errorf("--record-days %d: want a positive count", f.recordDays)
	case f.maxShrink <= 0 || f.maxShrink >= 1:
		return o, fmt.Errorf("--max-shrink %g: want a fraction above 0 and below 1", f.maxShrink)
	}
	eo, err := f.options(time.Now())
	if err != nil {
		return o, err
	}
	f.res.TTL = time.Duration(f.recordDays) * 24 * time.Hour
	eo.Heartbeat = f.heartbeat
	return jobOptions{Engine: eo, Window: f.window, CompleteWait: f.completeWait, StateDir: f.stateDir, JobPoll: f.jobPoll,
		Backup:  efsync.BackupOptions{Keep: f.keep.retention(), MaxShrink: f.maxShrink, Force: f.force, LockWait: f.lockWait},
		Verbose: f.verbose, AsJSON: f.asJSON}, nil
}
