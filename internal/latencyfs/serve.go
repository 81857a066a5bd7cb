package latencyfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ServeConfig is what Serve needs; cmd/latencyfs fills it from its flags.
type ServeConfig struct {
	Backing    string // directory to mirror
	Mountpoint string // empty directory to mount on
	Control    string // unix socket for the control API (control.go); "" = in a new temp dir

	Options Options   // delays, TTLs, initial faults
	Ready   io.Writer // gets "ready SOCKET\n" once the mount and the control socket work
}

// readyLine starts the line the child prints when it can be used; the
// control socket's path follows.
const readyLine = "ready"

// Serve mounts the file system and answers its requests and the control
// API until ctx is done or the mount goes away, then unmounts. A control
// socket it created (cfg.Control == "") is removed too: the child cleans up
// after itself, since a parent that died cannot.
//
// Serve MUST NOT run in a process that also uses the mount, such as a test:
// a thread of that process blocked in the kernel on a FUSE request can
// keep the Go runtime from running the goroutine that would answer it.
// Tests use Start, which runs Serve in cmd/latencyfs.
func Serve(ctx context.Context, cfg ServeConfig) error {
	pol, err := newPolicy(cfg.Options)
	if err != nil {
		return err
	}
	sock := cfg.Control
	if sock == "" {
		// A short path: a unix socket's must fit in 108 bytes.
		dir, err := os.MkdirTemp("", "latencyfs-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sock = filepath.Join(dir, "control")
	}
	root, err := newRoot(cfg.Backing, pol)
	if err != nil {
		return fmt.Errorf("loopback %s: %w", cfg.Backing, err)
	}
	server, err := fs.Mount(cfg.Mountpoint, root, fsOptions(cfg))
	if err != nil {
		return fmt.Errorf("mount %s: %w", cfg.Mountpoint, err)
	}
	served := make(chan struct{})
	go func() { server.Wait(); close(served) }()

	l, err := net.Listen("unix", sock)
	if err != nil {
		return errors.Join(fmt.Errorf("control socket: %w", err), unmount(server, cfg.Mountpoint, served))
	}
	ctl := &http.Server{Handler: newControl(pol), ReadHeaderTimeout: 10 * time.Second}
	go ctl.Serve(l) // returns when ctl is closed below
	defer ctl.Close()

	if _, err := fmt.Fprintln(cfg.Ready, readyLine, sock); err != nil {
		return errors.Join(fmt.Errorf("signal ready: %w", err), unmount(server, cfg.Mountpoint, served))
	}
	select {
	case <-ctx.Done():
		return unmount(server, cfg.Mountpoint, served)
	case <-served: // unmounted from outside, e.g. fusermount3 -u
		return nil
	}
}

// fsOptions maps cfg to go-fuse's options.
func fsOptions(cfg ServeConfig) *fs.Options {
	attr, entry, neg := cfg.Options.AttrTTL, cfg.Options.EntryTTL, cfg.Options.NegativeTTL
	name := "latencyfs:" + cfg.Backing
	if strings.ContainsAny(name, ", \t\n") { // would break fusermount's -o list
		name = "latencyfs"
	}
	var maxWrite int // go-fuse's default, 128 KiB
	var caps uint64
	if cfg.Options.WritebackCache {
		// EFS's wsize and rsize. The kernel writes back dirty
		// pages in requests of up to this size (also max_read and
		// max_pages), each delayed.
		maxWrite = 1 << 20
		caps = fuse.CAP_WRITEBACK_CACHE
	}
	return &fs.Options{
		MountOptions: fuse.MountOptions{
			MaxWrite:          maxWrite,
			ExtraCapabilities: caps,
			FsName:            name,
			Name:              "latencyfs",
			// Room for many asynchronous requests (readahead,
			// releases) in flight at once; the default 12 would
			// queue them. Synchronous requests, such as
			// lookups, are not limited, and go-fuse starts a new
			// reader goroutine whenever all readers are busy, so
			// 16 parallel lookups take one delay, not 16.
			MaxBackground: 64,
		},
		AttrTimeout:     &attr,
		EntryTimeout:    &entry,
		NegativeTimeout: &neg,
		// Show mode 0000 as is; go-fuse would otherwise show 0644,
		// and a copy through the mount would not be exact.
		NullPermissions: true,
	}
}

// unmount unmounts server. If files are still open in the mount (a killed
// test can leave a process behind), it detaches the mount lazily with
// fusermount3 -uz and does not wait for the last user to go.
func unmount(server *fuse.Server, mountpoint string, served <-chan struct{}) error {
	if err := server.Unmount(); err == nil {
		return nil
	}
	out, err := exec.Command("fusermount3", "-uz", mountpoint).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fusermount3 -uz %s: %w: %s", mountpoint, err, out)
	}
	select {
	case <-served:
	case <-time.After(time.Second):
	}
	return nil
}
