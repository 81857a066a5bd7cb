// Package awstest starts the AWS emulators that tests of orchestrate/aws
// run against: dynalite, a DynamoDB server on Node.js, for the fidelity
// of its expressions (reserved words, conditional writes). It imports no
// AWS SDK: it hands out endpoints.
//
// One dynalite per test binary, from TestMain, as it takes a second to
// start:
//
//	func TestMain(m *testing.M) {
//	    d, err := awstest.StartDynalite(context.Background())
//	    code := m.Run()  // tests call awstest.NeedDynalite(t, d, err)
//	    d.Close()
//	    os.Exit(code)
//	}
package awstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testenv"
)

// DynaliteEnv names the dynalite command to run when it is not
// "dynalite" in PATH (npm install -g dynalite puts it there).
const DynaliteEnv = "EFSYNC_DYNALITE"

// Dynalite is a running dynalite, in memory, on 127.0.0.1.
type Dynalite struct {
	// URL is its endpoint, http://127.0.0.1:PORT.
	URL string
	cmd *exec.Cmd
}

// StartDynalite starts dynalite on a free loopback port and returns once
// it listens. Its tables are created and deleted at once (no CREATING
// state). It returns an error if dynalite is not installed or won't
// start; Close stops it.
func StartDynalite(ctx context.Context) (*Dynalite, error) {
	bin := os.Getenv(DynaliteEnv)
	if bin == "" {
		p, err := exec.LookPath("dynalite")
		if err != nil {
			return nil, fmt.Errorf("dynalite not in PATH (npm install -g dynalite@4.0.0, or set %s): %w", DynaliteEnv, err)
		}
		bin = p
	}
	var err error
	for range 3 { // the free port may be taken before dynalite binds it
		var d *Dynalite
		if d, err = startDynalite(ctx, bin); err == nil {
			return d, nil
		}
	}
	return nil, err
}

// startDynalite tries once, on a port that was free a moment ago.
func startDynalite(ctx context.Context, bin string) (*Dynalite, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && strings.Contains(sc.Text(), "listening")
		ready <- ok
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case ok := <-ready:
		if ok {
			return &Dynalite{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}, nil
		}
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, fmt.Errorf("dynalite did not start: %s", strings.TrimSpace(stderr.String()))
}

// Close stops dynalite. It is safe on a nil *Dynalite.
func (d *Dynalite) Close() error {
	if d == nil {
		return nil
	}
	d.cmd.Process.Kill()
	err := d.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed, as asked
	}
	return err
}

// NeedDynalite skips tb, or fails it under EFSYNC_REQUIRE_TOOLS=1, when
// StartDynalite returned err; it returns d's URL.
func NeedDynalite(tb testing.TB, d *Dynalite, err error) string {
	tb.Helper()
	if err != nil {
		testenv.Need(tb, false, err.Error())
	}
	return d.URL
}

// freePort returns a loopback TCP port that was free when asked.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
