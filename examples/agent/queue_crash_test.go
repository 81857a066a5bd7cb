package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// sqsEnv starts a fake SQS on 127.0.0.1 with a tasks queue and its
// completions queue, and points the agents this test starts at it.
func sqsEnv(t *testing.T, visibility time.Duration) (*awsfake.SQSState, string) {
	t.Helper()
	return sqsEnvTB(t, visibility, "tasks")
}

// sqsEnvTB is sqsEnv for benchmarks too, with a queue of that name.
func sqsEnvTB(t testing.TB, visibility time.Duration, name string) (*awsfake.SQSState, string) {
	t.Helper()
	fake := awsfake.Start(t)
	state := fake.SQS()
	url := state.CreateQueue(name, visibility)
	state.CreateQueue(name+"-done", visibility)
	t.Setenv("AWS_ENDPOINT_URL_SQS", fake.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return state, url
}

// holding returns the pids of procs with a file open under dir whose
// name starts with prefix.
func holding(procs []*os.Process, dir, prefix string) []int {
	var out []int
	for _, p := range procs {
		fds, _ := filepath.Glob("/proc/" + strconv.Itoa(p.Pid) + "/fd/*")
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && filepath.Dir(l) == dir && strings.HasPrefix(filepath.Base(l), prefix) {
				out = append(out, p.Pid)
				break
			}
		}
	}
	return out
}

// TestQueueCrashRedelivers runs a leader and 3 worker processes on SQS
// (a fake on 127.0.0.1), SIGKILLs the worker that is writing a 64 MiB
// file, whose first write latencyfs holds, and shows that its partition
// (and any other it held) is delivered again to another worker, that the
// run ends with an exact copy, and that the report counts every
// partition once, those delivered again with 2 attempts.
func TestQueueCrashRedelivers(t *testing.T) {
	state, url := sqsEnv(t, 3*time.Second)
	backing := testtree.TempDir(t)
	gridTree(t, filepath.Join(backing, "src"), 3, 5)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := os.Mkdir(filepath.Join(backing, "src", "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backing, "src", "zbig", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/zbig/.efsync-*", Delay: time.Minute, Times: 1}}})
	src, dst := m.Dir()+"/src", m.Dir()+"/dst"

	var workers []*os.Process
	for i := range 3 {
		cmd, _ := startAgent(t, "worker", "--queue", url, "-n", "2", "--heartbeat", "1s", "--id", "w"+strconv.Itoa(i))
		workers = append(workers, cmd.Process)
	}
	_, wait := startAgent(t, "sync", "--queue", url, "--state-dir", t.TempDir(), "-E", "--json", "-f", "4", src, dst)
	var victim []int
	waitFor(t, 30*time.Second, "a worker writing big's temporary file", func() bool {
		victim = holding(workers, filepath.Join(dst, "zbig"), ".efsync-")
		return len(victim) == 1
	})
	for _, p := range workers {
		if p.Pid == victim[0] {
			if err := p.Kill(); err != nil { // SIGKILL, in the middle of the partition
				t.Fatal(err)
			}
		}
	}
	code, out := wait()
	if code != 0 {
		t.Fatalf("leader: exit %d\n%s", code, out)
	}
	rep := report(t, out[strings.Index(out, "{"):])
	// The killed worker held its big partition, and maybe one more: a
	// worker copies small partitions side by side, in its -n 2 slots.
	again := state.Redelivered(url)
	if len(again) == 0 || len(again) > 2 {
		t.Fatalf("%d tasks delivered again, want the killed worker's: 1 or 2", len(again))
	}
	redelivered, bigChunk := map[int]bool{}, -1
	for _, body := range again {
		task, err := efsync.DecodeTask(body)
		if err != nil {
			t.Fatal(err)
		}
		redelivered[task.Chunk] = true
		if slices.ContainsFunc(task.Paths, func(p []byte) bool { return string(p) == "zbig/big" }) {
			bigChunk = task.Chunk
		}
	}
	if bigChunk < 0 {
		t.Errorf("the tasks delivered again %v: none is the partition of zbig/big", redelivered)
	}
	seen := map[int]bool{}
	for _, p := range rep.Partitions {
		if seen[p.ID] {
			t.Errorf("partition %d counted twice", p.ID)
		}
		seen[p.ID] = true
		if want := map[bool]int{true: 2, false: 1}[redelivered[p.ID]]; p.Attempts != want || p.Status != kpi.StatusSuccess {
			t.Errorf("partition %d: %d attempts, %s; want %d, success", p.ID, p.Attempts, p.Status, want)
		}
	}
	f := rep.Files
	if booked := f.Created + f.Updated + f.HardLinked + f.Unchanged + f.MetadataOnly + f.Failed + f.Skipped; booked != rep.Scanned.Total() {
		t.Errorf("%d entries booked (%+v), %d scanned: want each once", booked, f, rep.Scanned.Total())
	}
	if len(seen) < 3 {
		t.Errorf("%d partitions: the test shows little", len(seen))
	}
	exactCopy(t, filepath.Join(backing, "src"), filepath.Join(backing, "dst"))
}
