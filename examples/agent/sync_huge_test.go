package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/transfer"
)

// TestSyncKilledHugeCopyResumes SIGKILLs the agent half way through the
// copy of a huge file (latencyfs holds every write past its ninth 4 MiB
// piece), once the state directory records half of the pieces done, and
// shows at the file system that the next run writes less than 60% of the
// file, keeps no temporary file, and makes an exact copy.
func TestSyncKilledHugeCopyResumes(t *testing.T) {
	const size = 64 << 20
	backing := testtree.TempDir(t)
	if err := os.MkdirAll(filepath.Join(backing, "src", "zbig"), 0o755); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, size)
	for i := range big {
		big[i] = byte(i*2654435761>>13) ^ byte(i>>20)
	}
	if err := os.WriteFile(filepath.Join(backing, "src", "zbig", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{Faults: []latencyfs.Fault{
		{Op: "write", Path: "dst/zbig/.efsync-*", AfterBytes: size/2 + 4<<20, Delay: time.Minute}}})
	f := &syncFixture{base: backing, src: m.Dir() + "/src", dst: m.Dir() + "/dst", state: t.TempDir()}
	huge := []string{"--huge-min", "16M", "--huge-piece", "4M", "--huge-workers", "2"}

	cmd, wait := startAgent(t, append(append([]string{"sync", "--state-dir", f.state}, huge...), f.src, f.dst)...)
	var rec transfer.PartialCopy
	waitFor(t, 60*time.Second, "a record of the first half's pieces", func() bool {
		rec = partialRecord(t, f.state, "zbig/big")
		return int64(len(rec.Done))*rec.Piece >= size/2
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wait()
	if _, err := os.Stat(filepath.Join(backing, "dst", "zbig", rec.Temp)); err != nil {
		t.Fatalf("the killed run's recorded temporary file: %v", err)
	}

	if err := m.SetFaults(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := f.sync(append(huge, f.src, f.dst)...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, errOut)
	}
	c, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c.BytesWritten >= size*6/10 {
		t.Errorf("the rerun wrote %d bytes of a %d-byte file, want less than 60%%", c.BytesWritten, size)
	}
	t.Logf("the rerun wrote %d of %d bytes (%.0f%%)", c.BytesWritten, size, 100*float64(c.BytesWritten)/size)
	if tmp := temps(t, filepath.Join(backing, "dst")); len(tmp) > 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	if rec := partialRecord(t, f.state, "zbig/big"); rec.Temp != "" {
		t.Errorf("the finished copy is still recorded: %+v", rec)
	}
	exactCopy(t, filepath.Join(backing, "src"), filepath.Join(backing, "dst"))
}

// partialRecord returns the state directory's record of the partial copy
// of rel, or a zero record.
func partialRecord(t *testing.T, state, rel string) transfer.PartialCopy {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "*", "partial"))
	if len(files) != 1 {
		return transfer.PartialCopy{}
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return transfer.PartialCopy{}
	}
	var recs map[string]transfer.PartialCopy
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	return recs[rel]
}
