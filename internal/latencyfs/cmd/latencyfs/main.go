// Command latencyfs mounts a directory through latencyfs, the EFS-like
// FUSE loopback of package internal/latencyfs, until it gets SIGTERM or
// SIGINT, or (with -watch-stdin, the default) until its stdin reaches EOF.
// The helper in package latencyfs starts it with a pipe as stdin, so the
// mount goes away with the test process, however that dies.
//
//	latencyfs -backing DIR -mount DIR [-control SOCKET] [-options JSON]
//
// It prints "ready SOCKET" on stdout once the mount and the control socket
// work.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/efsync/efsync/internal/latencyfs"
)

func main() {
	log.SetPrefix("latencyfs: ")
	backing := flag.String("backing", "", "directory to mirror")
	mount := flag.String("mount", "", "empty directory to mount on")
	control := flag.String("control", "", "unix socket for the control API (default: in a new temp dir)")
	options := flag.String("options", "{}", "latencyfs.Options as JSON")
	watchStdin := flag.Bool("watch-stdin", true, "unmount and exit when stdin reaches EOF")
	flag.Parse()
	if *backing == "" || *mount == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	var opt latencyfs.Options
	if err := json.Unmarshal([]byte(*options), &opt); err != nil {
		log.Fatalf("-options: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *watchStdin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		go func() {
			io.Copy(io.Discard, os.Stdin) // returns when the parent closes the pipe or dies
			cancel()
		}()
	}
	err := latencyfs.Serve(ctx, latencyfs.ServeConfig{
		Backing:    *backing,
		Mountpoint: *mount,
		Control:    *control,
		Options:    opt,
		Ready:      os.Stdout,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "latencyfs:", err)
		os.Exit(1)
	}
}
