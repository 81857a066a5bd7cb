package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/partition"
)

// engineFlags are the flags of the copy engine that sync, backup and
// restore share.
type engineFlags struct {
	workers, files, hugeWorkers int
	size, hugeMin, hugePiece    sizeFlag
	requireMount                bool
	requireFile                 string
	exclude                     listFlag
	maxDuration, grace          time.Duration
	checksum                    bool
	asJSON, verbose             bool
}

// register adds f's flags to fs; source adds those that judge or filter
// a live source (not a snapshot's).
func (f *engineFlags) register(fs *flag.FlagSet, source bool) {
	f.size = partition.DefaultMaxBytes
	fs.IntVar(&f.workers, "n", 0, "copy `N` partitions at once (default 8 × CPUs: EFS work waits on latency)")
	fs.IntVar(&f.files, "f", partition.DefaultMaxFiles, "close a partition at `N` entries (-1: no limit)")
	fs.Var(&f.size, "s", "close a partition at `SIZE` bytes: 512, 64K, 4G (-1: no limit)")
	if source {
		fs.Var(&f.exclude, "exclude", "leave out entries matching `PATTERN` (a name, or a path if it holds a /); repeatable")
		fs.BoolVar(&f.requireMount, "require-mount", false, "refuse a SRC that is not a mount point, or is empty")
		fs.StringVar(&f.requireFile, "require-file", "", "refuse a SRC without the file `NAME` at its top")
	}
	fs.BoolVar(&f.asJSON, "json", false, "print the final report as JSON on stdout")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "stop gracefully after `D` (1h30m), with exit code 3")
	fs.DurationVar(&f.grace, "grace", 10*time.Second, "after a stop, let partitions in flight finish for `D`")
	fs.BoolVar(&f.checksum, "checksum", false, "compare files of the same size by content (xxh3-128), not by mtime")
	fs.Var(&f.hugeMin, "huge-min", "copy a file of `SIZE` or more in pieces, several at once, resumable (default 256M)")
	fs.IntVar(&f.hugeWorkers, "huge-workers", 0, "copy `N` pieces of a huge file at once (default 8)")
	fs.Var(&f.hugePiece, "huge-piece", "cut a huge file into pieces of `SIZE`, the unit of a resumed copy (default 64M)")
	fs.BoolVar(&f.verbose, "v", false, "log what is done to stderr")
}

// options returns the efsync.Options that f asks for, or bad input.
func (f *engineFlags) options(now time.Time) (efsync.Options, error) {
	o := efsync.Options{Workers: f.workers, MaxFiles: f.files, MaxBytes: int64(f.size),
		Excludes: f.exclude, RequireMount: f.requireMount, RequireFile: f.requireFile,
		Grace: f.grace, Checksum: f.checksum,
		HugeMin: int64(f.hugeMin), HugeWorkers: f.hugeWorkers, HugePiece: int64(f.hugePiece)}
	switch {
	case f.workers < 0:
		return o, fmt.Errorf("-n %d: want a positive count", f.workers)
	case f.hugeWorkers < 0:
		return o, fmt.Errorf("--huge-workers %d: want a positive count", f.hugeWorkers)
	case f.hugeMin < 0 || f.hugePiece < 0:
		return o, fmt.Errorf("--huge-min %s, --huge-piece %s: want a positive size", &f.hugeMin, &f.hugePiece)
	case f.files == 0 || f.files < -1:
		return o, fmt.Errorf("-f %d: want a positive count, or -1", f.files)
	case f.maxDuration < 0:
		return o, fmt.Errorf("--max-duration %s: want a positive duration", f.maxDuration)
	case f.grace < 0:
		return o, fmt.Errorf("--grace %s: want a positive duration", f.grace)
	}
	if f.maxDuration > 0 {
		o.Deadline = now.Add(f.maxDuration)
	}
	if f.grace == 0 {
		o.Grace = -1 // 0 in Options means the default
	}
	return o, nil
}

// logger returns the run's logger, on w: warnings, or everything with -v.
func (f *engineFlags) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// parseFlags parses args with fs, whose messages go to msg, and returns
// the exit code to leave with, if any: 0 after -h, 1 for bad flags
// (flag.ExitOnError would exit with 2, which means Partial here).
func parseFlags(e *env, fs *flag.FlagSet, msg *bytes.Buffer, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			e.stdout.Write(msg.Bytes())
			return 0, true
		}
		e.stderr.Write(msg.Bytes())
		return 1, true
	}
	return 0, false
}

// exitFor returns the exit code of an error that left no report: 1 for
// bad input, 4 for anything else (a guard's refusal, a held lock).
func exitFor(err error) int {
	var ue *efsync.UsageError
	if errors.As(err, &ue) {
		return 1
	}
	return 4
}
