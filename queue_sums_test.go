package efsync

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
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

// TestChangedBackupManifestReadsNoSnapshot: the manifest of a backup
// takes each file's hash from what the copies learnt, the workers' (their
// sums) or its own, files copied in pieces among them, not from the new
// snapshot: every read of file data in it fails with EIO through
// latencyfs, and the backup still has a complete manifest that verifies
// in full. Before, a leader read back every file its workers wrote, and
// any backup every file of HugeMin bytes or more it changed. (Xattrs
// come from the copies too but a symlink's, which no copy reads: the
// manifest probes those.)
func TestChangedBackupManifestReadsNoSnapshot(t *testing.T) {
	for _, queued := range []bool{true, false} {
		t.Run(map[bool]string{true: "through a queue", false: "one host"}[queued], func(t *testing.T) {
			bo := BackupOptions{Options: Options{MaxFiles: 8, HugeMin: 256 << 10, HugePiece: 64 << 10}}
			if queued {
				bo.Queue = NewMemQueue(time.Minute)
				startWorkers(t, bo.Queue, 3)
			}
			changedBackupReadsNoSnapshot(t, bo)
		})
	}
}

func changedBackupReadsNoSnapshot(t *testing.T, bo BackupOptions) {
	backing := testtree.TempDir(t)
	must(t, os.Mkdir(filepath.Join(backing, "src"), 0o755))
	o := testtree.Small(83)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(filepath.Join(backing, "src")); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	src, repo := m.Dir()+"/src", m.Dir()+"/repo"
	backupOK(t, src, repo, bo)
	// But a new hard link to a file unchanged since the parent snapshot:
	// the copy links both names to the parent's inode, whose hash the
	// parent's manifest has under the other name only, so it is read.
	kinds := slices.DeleteFunc(testtree.DefaultKinds(), func(k testtree.Kind) bool { return k == testtree.NewHardLink })
	changed, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 11, Percent: 20, Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	grown := growHuge(t, filepath.Join(backing, "src"), bo.HugeMin) // copied in pieces
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
	wrote := map[string]bool{}
	for _, r := range readManifest(t, wrotePath(filepath.Join(backing, "repo"), second.ID)) {
		wrote[r.Path] = true
	}
	files := 0
	for _, r := range recs {
		if r.Type == manifest.TypeFile {
			files++
			if !r.HasHash {
				t.Errorf("%s: no hash", r.Path)
			}
		}
	}
	if files == 0 || len(wrote) == 0 || len(changed) == 0 || !wrote[grown] {
		t.Fatalf("%d files in the manifest, %d written (%s among them: %v), %d changed: the test shows nothing",
			files, len(wrote), grown, wrote[grown], len(changed))
	}
	r, err := Verify(context.Background(), repo, second.ID, VerifyOptions{Full: true})
	if err != nil || r.Status != kpi.StatusSuccess {
		t.Errorf("full verify of the second snapshot: %v, %+v", err, r)
	}
	if ents, _ := os.ReadDir(filepath.Join(backing, "repo", repoMeta, "state")); len(ents) != 0 {
		t.Errorf("the run's state, with its sums, is still there: %v", ents)
	}
}

// growHuge appends to a file of root of at least min bytes, and returns
// its path.
func growHuge(t *testing.T, root string, min int64) string {
	t.Helper()
	var rel string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if fi, _ := d.Info(); err == nil && rel == "" && d.Type().IsRegular() && fi.Size() >= min {
			rel, _ = filepath.Rel(root, p)
		}
		return err
	})
	if rel == "" {
		t.Fatalf("no file of %d bytes in %s", min, root)
	}
	f, err := os.OpenFile(filepath.Join(root, rel), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write(bytes.Repeat([]byte("grown "), 20000))
	must(t, errors.Join(err, f.Close()))
	return rel
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
