package efsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// TestQueuedManifestReadsNoSnapshot: the manifest of a backup whose
// workers copied the changes takes each file's hash and xattrs from what
// the workers' copies learnt (their sums), not from the new snapshot:
// every read of file data, and every xattr call, in it fails with EIO
// through latencyfs, and the backup still has a complete manifest that
// verifies in full. Before, the leader read back every file the workers
// wrote. (Their xattrs come from the sums too, but a symlink's, which no
// copy reads: the manifest probes those, as it does without a queue.)
func TestQueuedManifestReadsNoSnapshot(t *testing.T) {
	backing := testtree.TempDir(t)
	must(t, os.Mkdir(filepath.Join(backing, "src"), 0o755))
	o := testtree.Small(83)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(filepath.Join(backing, "src")); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	src, repo := m.Dir()+"/src", m.Dir()+"/repo"
	q := NewMemQueue(time.Minute)
	startWorkers(t, q, 3)
	bo := BackupOptions{Options: Options{Queue: q, MaxFiles: 8}}
	backupOK(t, src, repo, bo)
	// But a new hard link to a file unchanged since the parent snapshot:
	// the copy links both names to the parent's inode, whose hash the
	// parent's manifest has under the other name only, so it is read.
	kinds := slices.DeleteFunc(testtree.DefaultKinds(), func(k testtree.Kind) bool { return k == testtree.NewHardLink })
	changed, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 11, Percent: 20, Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	bo.ID = NewBackupID(time.Now())
	var faults []latencyfs.Fault
	top := "repo/" + DefaultLabel + "/" + bo.ID
	for p := top + "/*"; len(p) < len(top)+2*10; p += "/*" {
		faults = append(faults, latencyfs.Fault{Op: "read", Path: p, Errno: syscall.EIO})
	}
	must(t, m.SetFaults(faults))
	second := backupOK(t, src, repo, bo)
	must(t, m.SetFaults(nil))

	recs := readManifest(t, manifestPath(filepath.Join(backing, "repo"), second.ID))
	written := readManifest(t, wrotePath(filepath.Join(backing, "repo"), second.ID))
	files := 0
	for _, r := range recs {
		if r.Type == manifest.TypeFile {
			files++
			if !r.HasHash {
				t.Errorf("%s: no hash", r.Path)
			}
		}
	}
	if files == 0 || len(written) == 0 || len(changed) == 0 {
		t.Fatalf("%d files in the manifest, %d written, %d changed: the test shows nothing", files, len(written), len(changed))
	}
	r, err := Verify(context.Background(), repo, second.ID, VerifyOptions{Full: true})
	if err != nil || r.Status != kpi.StatusSuccess {
		t.Errorf("full verify of the snapshot the workers wrote: %v, %+v", err, r)
	}
	if ents, _ := os.ReadDir(filepath.Join(backing, "repo", repoMeta, "state")); len(ents) != 0 {
		t.Errorf("the run's state, with its sums, is still there: %v", ents)
	}
}

// TestFromSum: a worker's sum answers what the entry needs only if it is
// the same entry as the copy left it, and only what it knows.
func TestFromSum(t *testing.T) {
	entry := manifest.Record{Path: "a", Type: manifest.TypeFile, Size: 3, Mtime: 7}
	sum := entry
	sum.Hash, sum.HasHash, sum.Xattrs, sum.Mode = [16]byte{1}, true, [16]byte{2}, needHash|needXattrs
	tests := []struct {
		name     string
		sum      func(manifest.Record) manifest.Record
		need     uint32
		wantNeed uint32
		wantHash bool
	}{
		{"both known", func(s manifest.Record) manifest.Record { return s }, needHash | needXattrs, 0, true},
		{"hash only needed", func(s manifest.Record) manifest.Record { return s }, needHash, 0, true},
		{"xattrs only known", func(s manifest.Record) manifest.Record { s.Mode, s.HasHash = needXattrs, false; return s }, needHash | needXattrs, needHash, false},
		{"another size", func(s manifest.Record) manifest.Record { s.Size++; return s }, needHash | needXattrs, needHash | needXattrs, false},
		{"another mtime", func(s manifest.Record) manifest.Record { s.Mtime++; return s }, needHash, needHash, false},
		{"another type", func(s manifest.Record) manifest.Record { s.Type = manifest.TypeSymlink; return s }, needXattrs, needXattrs, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := entry
			got := fromSum(&r, tt.sum(sum), tt.need)
			if got != tt.wantNeed || r.HasHash != tt.wantHash || (tt.wantHash && r.Hash != sum.Hash) {
				t.Errorf("need %b, hash %v %x; want need %b, hash %v", got, r.HasHash, r.Hash, tt.wantNeed, tt.wantHash)
			}
			if wantX := tt.need&needXattrs != 0 && got&needXattrs == 0; (r.Xattrs == sum.Xattrs) != wantX {
				t.Errorf("xattrs %x, taken %v", r.Xattrs, !wantX)
			}
		})
	}
}

// TestSumsFileStaysInItsDirectory: the leader removes the sums file a
// completion names, and a completion is a message anyone with the queue
// can send: a name that would leave the directory is refused.
func TestSumsFileStaysInItsDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", ".", "..", "../run", "a/b", "/etc/passwd", "x\x00y"} {
		if p, err := sumsFile(dir, name); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%q: %q, %v; want ErrBadMessage", name, p, err)
		}
	}
	if p, err := sumsFile(dir, "12-a1b2c3"); err != nil || p != filepath.Join(dir, "12-a1b2c3") {
		t.Errorf("a worker's name: %q, %v", p, err)
	}
}
