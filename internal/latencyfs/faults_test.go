package latencyfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFaultMatch checks which faults apply to which calls, without FUSE.
func TestFaultMatch(t *testing.T) {
	type call struct {
		op, rel string
		end     int64
		want    syscall.Errno
	}
	tests := []struct {
		name   string
		faults []Fault
		calls  []call
	}{
		{
			name:   "op and path glob",
			faults: []Fault{{Op: "create", Path: "full/*", Errno: syscall.ENOSPC}},
			calls: []call{
				{op: "create", rel: "full/a", want: syscall.ENOSPC},
				{op: "create", rel: "full/a/b"},
				{op: "mkdir", rel: "full/a"},
				{op: "create", rel: "other/a"},
			},
		},
		{
			name:   "any op any path",
			faults: []Fault{{Errno: syscall.EIO}},
			calls:  []call{{op: "lookup", rel: "x", want: syscall.EIO}, {op: "write", want: syscall.EIO}},
		},
		{
			name:   "after bytes",
			faults: []Fault{{Op: "write", Errno: syscall.ENOSPC, AfterBytes: 100}},
			calls: []call{
				{op: "write", end: 100},
				{op: "write", end: 101, want: syscall.ENOSPC},
				{op: "read", end: 200},
			},
		},
		{
			name:   "times then the next fault",
			faults: []Fault{{Op: "open", Errno: syscall.EIO, Times: 2}, {Op: "open", Errno: syscall.EACCES, Times: 1}},
			calls: []call{
				{op: "open", want: syscall.EIO},
				{op: "open", want: syscall.EIO},
				{op: "open", want: syscall.EACCES},
				{op: "open"},
			},
		},
		{
			name:   "first match wins",
			faults: []Fault{{Path: "a", Errno: syscall.EMLINK}, {Errno: syscall.EIO}},
			calls:  []call{{op: "link", rel: "a", want: syscall.EMLINK}, {op: "link", rel: "b", want: syscall.EIO}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s faultSet
			if err := s.set(tt.faults); err != nil {
				t.Fatal(err)
			}
			for i, c := range tt.calls {
				if got := s.match(c.op, []string{c.rel}, c.end).Errno; got != c.want {
					t.Errorf("call %d %+v: errno %v, want %v", i, c, got, c.want)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, f := range []Fault{{Op: "wrte"}, {Path: "["}, {Times: -1}} {
		if err := validate([]Fault{f}); err == nil {
			t.Errorf("validate(%+v) = nil, want an error", f)
		}
	}
}

// TestENOSPC checks that an injected ENOSPC reaches the writer, after the
// bytes before it were written.
func TestENOSPC(t *testing.T) {
	const limit = 1 << 20
	backing := t.TempDir()
	must(t, os.Mkdir(filepath.Join(backing, "full"), 0o755))
	must(t, os.Mkdir(filepath.Join(backing, "roomy"), 0o755))
	m := Start(t, backing, Options{Faults: []Fault{
		{Op: "write", Path: "full/*", Errno: syscall.ENOSPC, AfterBytes: limit},
	}})

	n, err := writeAndClose(filepath.Join(m.Dir(), "full/big"), 4*limit)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write to full/: %d bytes, %v; want ENOSPC", n, err)
	}
	if n > limit || n < limit-64<<10 {
		t.Errorf("wrote %d bytes before ENOSPC, want just under %d", n, limit)
	}
	if n, err := writeAndClose(filepath.Join(m.Dir(), "roomy/big"), 4*limit); err != nil {
		t.Errorf("write to roomy/: %d bytes, %v; want no error", n, err)
	}
}

// writeAndClose writes size bytes to a new file in 64 KiB calls and returns
// how many were written and the first error of write or close.
func writeAndClose(name string, size int) (int, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	n := 0
	for n < size {
		k, err := f.Write(buf)
		n += k
		if err != nil {
			f.Close()
			return n, err
		}
	}
	return n, f.Close()
}

// TestFaultTimes checks a transient fault: it fails twice, then the same
// call succeeds. The fault is set at run time.
func TestFaultTimes(t *testing.T) {
	backing := t.TempDir()
	must(t, os.Mkdir(filepath.Join(backing, "retry"), 0o755))
	m := Start(t, backing, Options{})
	must(t, m.SetFaults([]Fault{{Op: "create", Path: "retry/*", Errno: syscall.EIO, Times: 2}}))
	must(t, m.Reset())

	name := filepath.Join(m.Dir(), "retry/x")
	for i, wantErr := range []bool{true, true, false, false} {
		err := os.WriteFile(name, []byte("x"), 0o644)
		if wantErr != errors.Is(err, syscall.EIO) || !wantErr && err != nil {
			t.Errorf("attempt %d: %v, want EIO: %v", i+1, err, wantErr)
		}
	}
	c, err := m.Counts()
	must(t, err)
	// The 4th write opens the existing file: no create.
	if c.Ops["create"] != 3 {
		t.Errorf("create calls: %d, want 3", c.Ops["create"])
	}
}

// TestControlErrors checks that the control API refuses bad values and
// takes good ones.
func TestControlErrors(t *testing.T) {
	m := Start(t, t.TempDir(), Options{})
	if err := m.SetFaults([]Fault{{Op: "nosuchop"}}); err == nil {
		t.Errorf("SetFaults with an unknown op: no error")
	}
	if err := m.SetDelay(-time.Millisecond, 0); err == nil {
		t.Errorf("SetDelay(-1ms): no error")
	}
	must(t, m.SetDelay(time.Millisecond, time.Millisecond))
	must(t, m.SetFaults(nil))
}

// TestDelayFaultKill checks that a write slowed down by a fault can be
// killed mid-write: the process goes away long before the delay ends.
func TestDelayFaultKill(t *testing.T) {
	const delay = time.Minute
	backing := t.TempDir()
	must(t, os.Mkdir(filepath.Join(backing, "slow"), 0o755))
	m := Start(t, backing, Options{})
	must(t, m.SetFaults([]Fault{{Op: "write", Path: "slow/*", Delay: delay}}))

	cmd := helperCmd("write", filepath.Join(m.Dir(), "slow/x"))
	must(t, cmd.Start())
	waitFor(t, 10*time.Second, "the writer's first write", func() bool {
		c, err := m.Counts()
		return err == nil && c.Ops["write"] > 0
	})
	start := time.Now()
	must(t, cmd.Process.Kill())
	cmd.Wait() // killed: the error says so
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("killed writer took %v to exit, want well under the %v delay", took, delay)
	}
}

// waitFor polls cond every 10 ms until it holds, failing t after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
