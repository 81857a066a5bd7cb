package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// The stop protocol, on a unix socket: the client writes one line, "stop"
// (the daemon and its backups) or "stop ID" (one backup), and the server
// answers one line, "ok: ..." or "error: ...".

// ListenStop listens on the unix socket path for stop requests. A socket
// left by a dead process is replaced; one that a live process answers on
// is an error.
func ListenStop(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("stop socket %s: another daemon listens on it", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return net.Listen("unix", path)
}

// ServeStop answers the stop requests of ln with handle, which gets the
// id asked for ("" for all) and returns what to answer, until ctx is done;
// then it closes ln, which removes the socket, and returns once every
// request taken is answered: a process that exits after a stop must not
// leave its asker without the answer.
func ServeStop(ctx context.Context, ln net.Listener, handle func(id string) (string, error)) {
	go func() { <-ctx.Done(); ln.Close() }()
	var answers sync.WaitGroup
	defer answers.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		answers.Go(func() { serveStop(c, handle) })
	}
}

// serveStop answers the one request of c.
func serveStop(c net.Conn, handle func(id string) (string, error)) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	verb, id, _ := strings.Cut(strings.TrimSpace(line), " ")
	if verb != "stop" {
		fmt.Fprintf(c, "error: unknown request %q\n", verb)
		return
	}
	msg, err := handle(strings.TrimSpace(id))
	if err != nil {
		fmt.Fprintf(c, "error: %v\n", err)
		return
	}
	fmt.Fprintf(c, "ok: %s\n", msg)
}

// RequestStop asks the process listening on the socket path to stop the
// backup id, or itself if id is "", and returns its answer.
func RequestStop(ctx context.Context, path, id string) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return "", fmt.Errorf("no daemon answers on %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := fmt.Fprintf(c, "stop %s\n", id); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("stop request on %s: %w", path, err)
	}
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return "", errors.New(msg)
	}
	return strings.TrimPrefix(line, "ok: "), nil
}
