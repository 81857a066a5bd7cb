package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
)

// partitionFlags are the flags of agent partition.
type partitionFlags struct {
	walkers, files, parts int
	size                  sizeFlag
	nul, oneFS, snapshots bool
	outDir                string
	exclude, excludeFold  listFlag
	include, includeFold  listFlag
}

// newPartitionFlags returns the flag set of agent partition, writing its
// messages to out, and the values it fills.
func newPartitionFlags(out io.Writer) (*flag.FlagSet, *partitionFlags) {
	f := &partitionFlags{size: partition.DefaultMaxBytes}
	fs := flag.NewFlagSet("partition", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&f.walkers, "n", partition.DefaultWalkers, "read `N` directories at once (walkers)")
	fs.IntVar(&f.files, "f", partition.DefaultMaxFiles, "close a partition at `N` entries, directories included (-1: no limit)")
	fs.Var(&f.size, "s", "close a partition at `SIZE` bytes: 512, 64K, 4G, 1T (-1: no limit)")
	fs.IntVar(&f.parts, "parts", 0, "make exactly `K` partitions balanced by cost, after the crawl (holds every entry in memory)")
	fs.BoolVar(&f.nul, "0", false, "end each record with NUL, not a newline (names may hold newlines)")
	fs.StringVar(&f.outDir, "o", "", "write partition N to `DIR`/part.N, one path per record, instead of to stdout")
	fs.BoolVar(&f.oneFS, "b", false, "don't cross file system boundaries")
	fs.BoolVar(&f.snapshots, "snapshot-excludes", false, "exclude .zfs, .snapshot* and .ckpt, as fpsync does")
	fs.Var(&f.exclude, "x", "exclude entries matching `PATTERN` (a name, or a path if it holds a /); repeatable")
	fs.Var(&f.excludeFold, "X", "exclude entries matching `PATTERN`, ignoring ASCII case; repeatable")
	fs.Var(&f.include, "y", "list only non-directories matching `PATTERN`; repeatable")
	fs.Var(&f.includeFold, "Y", "list only non-directories matching `PATTERN`, ignoring ASCII case; repeatable")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent partition [flags] SRC")
		fmt.Fprintln(w, "\nCrawls SRC with several walkers and prints its partitions as fpart -L does:")
		fmt.Fprintln(w, "one record per entry, \"PART<TAB>SIZE<TAB>PATH\", directories and the root")
		fmt.Fprintln(w, "included. Flags go before SRC.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// options returns the partition.Options that f asks for.
func (f *partitionFlags) options(rep partition.Reporter) partition.Options {
	return partition.Options{
		Walkers: f.walkers, MaxFiles: f.files, MaxBytes: int64(f.size), Parts: f.parts,
		OneFileSystem: f.oneFS, Reporter: rep,
		Filter: partition.Filter{Exclude: f.exclude, ExcludeFold: f.excludeFold,
			Include: f.include, IncludeFold: f.includeFold, SnapshotExcludes: f.snapshots},
	}
}

// check reports the first flag value out of range.
func (f *partitionFlags) check() error {
	switch {
	case f.walkers < 1:
		return fmt.Errorf("-n %d: want at least 1 walker", f.walkers)
	case f.files == 0 || f.files < -1:
		return fmt.Errorf("-f %d: want a positive count, or -1", f.files)
	case f.parts < 0:
		return fmt.Errorf("--parts %d: want a positive count", f.parts)
	}
	return nil
}

// partitionCmd is agent partition.
func partitionCmd(e *env, args []string) int {
	ctx, stdout, stderr := e.ctx, e.stdout, e.stderr
	var msg bytes.Buffer // flag's messages: help to stdout, errors to stderr
	fs, f := newPartitionFlags(&msg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stdout.Write(msg.Bytes())
			return 0
		}
		stderr.Write(msg.Bytes())
		return 1 // a usage error; flag.ExitOnError would exit with 2
	}
	src, err := onlySource(fs.Args())
	if err == nil {
		err = f.check()
	}
	if err != nil {
		fmt.Fprintf(stderr, "partition: %v\n", err)
		return 1
	}
	counters := kpi.New(kpi.Options{Source: src})
	w, err := partition.NewWalker(src, f.options(counters))
	if err != nil {
		fmt.Fprintf(stderr, "partition: %v\n", err)
		return 1
	}
	p := &printer{src: src, outDir: f.outDir, term: '\n', stderr: stderr}
	if f.nul {
		p.term = 0
	}
	if err := p.run(ctx, w, stdout); err != nil {
		fmt.Fprintf(stderr, "partition: %v\n", err)
		return 1
	}
	if counters.Report().Errors.Total > 0 {
		return kpi.StatusPartial.ExitCode()
	}
	return 0
}

// onlySource returns the one SRC of args, refusing flags after it.
func onlySource(args []string) (string, error) {
	switch {
	case len(args) == 0:
		return "", errors.New("missing SRC (agent partition -h shows the usage)")
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return "", fmt.Errorf("flag %s after SRC: flags go before SRC", args[1])
	case len(args) > 1:
		return "", fmt.Errorf("one SRC wanted, got %d: %q", len(args), args)
	}
	return args[0], nil
}

// printer writes the partitions a Walker sends.
type printer struct {
	// config
	src    string
	outDir string // "" prints to stdout
	term   byte   // record terminator
	stderr io.Writer
}

// run runs w and prints its chunks to stdout, or to part files in outDir.
func (p *printer) run(ctx context.Context, w *partition.Walker, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.outDir != "" {
		if err := os.MkdirAll(p.outDir, 0o755); err != nil {
			return err
		}
	}
	out := make(chan partition.Chunk)
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, out) }()
	bw := bufio.NewWriterSize(stdout, 64<<10)
	var werr error
	for c := range out {
		if werr != nil {
			continue // drain until Run sees the cancel
		}
		if p.outDir != "" {
			werr = p.writePart(c)
		} else {
			werr = p.print(bw, c)
		}
		if werr != nil {
			cancel()
		}
	}
	err := <-errc
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// path returns the path of e as fpart prints it: under SRC as given.
func (p *printer) path(e *partition.Entry) string {
	if e.Path == "." {
		return p.src
	}
	return strings.TrimSuffix(p.src, "/") + "/" + e.Path
}

// print writes c's records, "ID<TAB>SIZE<TAB>PATH", to w, and each error
// entry's error to stderr.
func (p *printer) print(w *bufio.Writer, c partition.Chunk) error {
	for i := range c.Entries {
		e := &c.Entries[i]
		p.warn(e)
		var size int64
		if e.IsRegular() {
			size = e.Size
		}
		fmt.Fprintf(w, "%d\t%d\t%s%c", c.ID, size, p.path(e), p.term)
	}
	return nil // bufio keeps the first write error for Flush
}

// writePart writes c to outDir/part.ID, one path per record. It refuses to
// overwrite a part file, which could mix two runs.
func (p *printer) writePart(c partition.Chunk) error {
	f, err := os.OpenFile(filepath.Join(p.outDir, fmt.Sprintf("part.%d", c.ID)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range c.Entries {
		p.warn(&c.Entries[i])
		w.WriteString(p.path(&c.Entries[i]))
		w.WriteByte(p.term)
	}
	return errors.Join(w.Flush(), f.Close())
}

// warn prints e's error, if it has one, naming its path under SRC.
func (p *printer) warn(e *partition.Entry) {
	if e.Err == nil {
		return
	}
	var pe *os.PathError
	if errors.As(e.Err, &pe) {
		fmt.Fprintf(p.stderr, "partition: %s: %s: %v\n", p.path(e), pe.Op, pe.Err)
		return
	}
	fmt.Fprintf(p.stderr, "partition: %s: %v\n", p.path(e), e.Err)
}
