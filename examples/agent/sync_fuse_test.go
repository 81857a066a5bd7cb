package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
)

// gridTree fills root with dirs directories of files files each, 1 KiB
// apiece, named d0/f0 and on, and returns the files' paths.
func gridTree(t testing.TB, root string, dirs, files int) []string {
	t.Helper()
	var rels []string
	for d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprintf("d%d", d)), 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range files {
			rel := fmt.Sprintf("d%d/f%d", d, f)
			if err := os.WriteFile(filepath.Join(root, rel), []byte(strings.Repeat(rel, 1024/len(rel))), 0o644); err != nil {
				t.Fatal(err)
			}
			rels = append(rels, rel)
		}
	}
	return rels
}

// TestSyncResumeRerunsOnlyFailedChunks fails entries in two partitions,
// which makes the run Partial (exit 2), then shows at the file system that
// --resume copies those two partitions and nothing else: every source
// file gets a new mtime, and only the files of the two failed partitions
// get it at the destination.
func TestSyncResumeRerunsOnlyFailedChunks(t *testing.T) {
	backing := testtree.TempDir(t)
	files := gridTree(t, filepath.Join(backing, "src"), 8, 10)
	bad := []string{"src/d1/f3", "src/d6/f5"}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "open", Path: bad[0], Errno: syscall.EIO}, {Op: "open", Path: bad[1], Errno: syscall.EIO}}})
	f := &syncFixture{base: backing, src: m.Dir() + "/src", dst: m.Dir() + "/dst", state: t.TempDir()}

	code, out, errOut := f.sync("-f", "12", "--json", f.src, f.dst)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (Partial)\n%s", code, errOut)
	}
	for _, b := range bad {
		if !strings.Contains(errOut, strings.TrimPrefix(b, "src/")) {
			t.Errorf("stderr doesn't name %s:\n%s", b, errOut)
		}
	}
	id := report(t, out).RunID
	dir := runDir(t, f.state, id)
	fails, _ := filepath.Glob(filepath.Join(dir, "chunks", "*.fail"))
	if len(fails) != 2 {
		t.Fatalf("journal holds %d failed chunks, want 2: %q", len(fails), fails)
	}
	redo := map[string]bool{} // the entries of the two failed chunks
	for _, fail := range fails {
		list, err := os.ReadFile(strings.TrimSuffix(fail, ".fail"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00") {
			redo[rel] = true
		}
	}
	if !redo[strings.TrimPrefix(bad[0], "src/")] || !redo[strings.TrimPrefix(bad[1], "src/")] {
		t.Fatalf("the failed chunks don't hold the failed files: %v", redo)
	}

	if err := m.SetFaults(nil); err != nil {
		t.Fatal(err)
	}
	mark := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rel := range files {
		if err := os.Chtimes(filepath.Join(backing, "src", rel), mark, mark); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut = f.sync("--resume", id, f.src, f.dst); code != 0 {
		t.Fatalf("--resume: exit %d\n%s", code, errOut)
	}
	var redone, want []string
	for _, rel := range files {
		st, err := os.Stat(filepath.Join(backing, "dst", rel))
		if err != nil {
			t.Fatal(err)
		}
		if st.ModTime().Equal(mark) {
			redone = append(redone, rel)
		}
		if redo[rel] {
			want = append(want, rel)
		}
	}
	if !slices.Equal(redone, want) {
		t.Errorf("--resume copied %d files %q,\nwant the %d of the failed chunks %q", len(redone), redone, len(want), want)
	}
	code, out, _ = f.sync("--list-runs", f.src, f.dst)
	if code != 0 || !strings.Contains(out, "0 failed, 0 pending") {
		t.Errorf("--list-runs after the resume:\n%s", out)
	}
	if code, _, errOut = f.sync("-E", f.src, f.dst); code != 0 {
		t.Fatalf("full sync: exit %d\n%s", code, errOut)
	}
	exactCopy(t, filepath.Join(backing, "src"), filepath.Join(backing, "dst"))
}

// slowWrite starts the agent syncing a tree with one 64 MiB file, whose
// writes into its temporary file latencyfs holds for hold (the first
// times of them; 0 for all), and returns once that temporary file exists.
func slowWrite(t *testing.T, hold time.Duration, times int, args ...string) (*syncFixture, *os.Process, func() (int, string)) {
	t.Helper()
	backing := testtree.TempDir(t)
	gridTree(t, filepath.Join(backing, "src"), 3, 5)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	// big is alone in its directory, so that the wait below sees its
	// temporary file, not a small file's, which comes and goes at once.
	if err := os.Mkdir(filepath.Join(backing, "src", "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backing, "src", "zbig", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/zbig/.efsync-*", Delay: hold, Times: times}}})
	f := &syncFixture{base: backing, src: m.Dir() + "/src", dst: m.Dir() + "/dst", state: t.TempDir()}
	cmd, wait := startAgent(t, append(append([]string{"sync", "--state-dir", f.state}, args...), f.src, f.dst)...)
	waitFor(t, 30*time.Second, "big's temporary file in the destination", func() bool {
		return len(temps(t, filepath.Join(backing, "dst", "zbig"))) > 0
	})
	return f, cmd.Process, wait
}

// TestSyncCrashConverges SIGKILLs the agent while it writes a file, and
// shows that the next run removes the temporary file and makes an exact
// copy.
func TestSyncCrashConverges(t *testing.T) {
	f, proc, wait := slowWrite(t, time.Minute, 1, "-E")
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	wait()
	bsrc, bdst := filepath.Join(f.base, "src"), filepath.Join(f.base, "dst")
	if len(temps(t, bdst)) == 0 {
		t.Fatal("the killed run left no temporary file: the test shows nothing")
	}
	if _, err := os.Stat(filepath.Join(bdst, "zbig", "big")); err == nil {
		t.Error("a killed copy left a file under its real name")
	}
	code, out, _ := f.sync("--list-runs", f.src, f.dst)
	if code != 0 || !strings.Contains(out, "killed") {
		t.Errorf("--list-runs doesn't show the killed run:\n%s", out)
	}
	if code, _, errOut := f.sync("-E", f.src, f.dst); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, errOut)
	}
	exactCopy(t, bsrc, bdst)
}

// TestSyncSignalStopsGracefully sends SIGTERM while a write is held: the
// agent lets the chunk in flight finish, starts nothing more, journals the
// run as unfinished, and exits 3 with no temporary file; a --resume then
// completes the copy.
func TestSyncSignalStopsGracefully(t *testing.T) {
	f, proc, wait := slowWrite(t, 2*time.Second, 1, "-E", "-n", "1", "-f", "4", "--json", "--grace", "1m")
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, out := wait()
	if code != 3 {
		t.Fatalf("exit %d, want 3 (Incomplete)\n%s", code, out)
	}
	bsrc, bdst := filepath.Join(f.base, "src"), filepath.Join(f.base, "dst")
	if tmp := temps(t, bdst); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	r := report(t, out[strings.Index(out, "{\n"):strings.LastIndex(out, "}")+1]) // stderr is mixed in
	if _, err := os.Stat(filepath.Join(bdst, "zbig", "big")); err != nil {
		t.Errorf("the chunk in flight did not finish within the grace period: %v", err)
	}
	// The stop skipped the rest: chunks not begun stay pending, and
	// neither the delete pass nor the directories' metadata ran.
	code, list, _ := f.sync("--list-runs", f.src, f.dst)
	if code != 0 || strings.Contains(list, "pass complete") || !strings.Contains(list, "incomplete") {
		t.Errorf("--list-runs after the stop:\n%s", list)
	}
	if code, _, errOut := f.sync("-E", "--resume", r.RunID, f.src, f.dst); code != 0 {
		t.Fatalf("--resume: exit %d\n%s", code, errOut)
	}
	exactCopy(t, bsrc, bdst)
}

// TestSyncSecondSignalAborts sends two SIGTERMs while a file is written
// slowly (10 ms per FUSE write: over 10 s for the file, about 1.3 s for
// each 8 MiB piece of the copy), with a grace period of a minute: the
// second signal cuts the copy short at once, and it removes its temporary
// file.
func TestSyncSecondSignalAborts(t *testing.T) {
	f, proc, wait := slowWrite(t, 10*time.Millisecond, 0, "--grace", "1m")
	code, out := twoSignals(t, proc, wait, 10*time.Second)
	if code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, out)
	}
	bdst := filepath.Join(f.base, "dst")
	if tmp := temps(t, bdst); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	if _, err := os.Stat(filepath.Join(bdst, "zbig", "big")); err == nil {
		t.Error("the file was copied to the end: the abort waited")
	}
}

// TestSyncAbortLeavesAHungWrite sends two SIGTERMs while a write hangs for
// a minute, as on an NFS server that stopped answering: the agent exits
// anyway, and the next run removes the temporary file the stuck write
// kept, and makes an exact copy.
func TestSyncAbortLeavesAHungWrite(t *testing.T) {
	f, proc, wait := slowWrite(t, time.Minute, 1, "-E", "--grace", "1m")
	if code, out := twoSignals(t, proc, wait, 30*time.Second); code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, out)
	}
	if code, _, errOut := f.sync("-E", f.src, f.dst); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, errOut)
	}
	exactCopy(t, filepath.Join(f.base, "src"), filepath.Join(f.base, "dst"))
}

// twoSignals sends proc two SIGTERMs and waits at most limit for it to
// exit; then it dumps its goroutines and fails t.
func twoSignals(t *testing.T, proc *os.Process, wait func() (int, string), limit time.Duration) (int, string) {
	t.Helper()
	proc.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond) // two signals, not one coalesced
	proc.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	var code int
	var out string
	go func() { code, out = wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		proc.Signal(syscall.SIGQUIT) // its goroutines, for the log
		<-done
		t.Fatalf("the agent still runs %s after the second signal\n%s", limit, out)
	}
	return code, out
}
