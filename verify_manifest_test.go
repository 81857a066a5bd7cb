package efsync

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// readManifest returns every record of a manifest file.
func readManifest(t *testing.T, path string) []manifest.Record {
	t.Helper()
	r, err := manifest.Open(path)
	must(t, err)
	defer r.Close()
	var recs []manifest.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		must(t, err)
		recs = append(recs, rec)
	}
}

// TestVerifyFindsDamage backs up a tree, verifies the snapshot against
// its manifest (nothing found), then damages it: a flipped byte with its
// mtime restored, a mode, an mtime, an xattr, an owner, a deleted and an
// added file. A full verify finds and names each, and nothing else.
func TestVerifyFindsDamage(t *testing.T) {
	base := testtree.TempDir(t)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	files := flatTree(t, src, 8)
	rec := backupOK(t, src, repo, BackupOptions{})
	for _, full := range []bool{false, true} {
		r, err := Verify(context.Background(), repo, rec.ID, VerifyOptions{Full: full})
		if err != nil || r.Status != kpi.StatusSuccess || r.Total != 0 {
			t.Fatalf("verify (full %v) of a sound snapshot: %v, %+v", full, err, r)
		}
		if full && r.Checked != 9 { // the root too
			t.Errorf("full verify checked %d entries, want 9", r.Checked)
		}
	}
	want := corruptions(t, rec.Snapshot, files)
	if k, ok := want[files[5]]; ok && len(k) == 2 {
		want[files[5]] = []string{"owner"}
	}
	r, err := Verify(context.Background(), repo, rec.ID, VerifyOptions{Full: true})
	if err != nil || r.Status != kpi.StatusPartial {
		t.Fatalf("verify of a damaged snapshot: %v, %+v", err, r)
	}
	got := map[string][]string{}
	for _, d := range r.Differences {
		got[d.Path] = d.Kinds
	}
	for p, kinds := range want {
		if !slices.Equal(got[p], kinds) {
			t.Errorf("%s: found %q, want %q", p, got[p], kinds)
		}
	}
	for p, kinds := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: found %q, which was not damaged", p, kinds)
		}
	}
}

// TestVerifyChangedReadsOnlyWritten makes two backups, the second after
// two files changed, then verifies the second snapshot through latencyfs:
// changed-only reads exactly those two files' bytes, a full verify every
// file's.
func TestVerifyChangedReadsOnlyWritten(t *testing.T) {
	backing := testtree.TempDir(t)
	src, repo := filepath.Join(backing, "src"), filepath.Join(backing, "repo")
	files := flatTree(t, src, 10)
	backupOK(t, src, repo, BackupOptions{})
	var changed int64
	for _, f := range files[:2] {
		b := make([]byte, 100<<10+len(f))
		must(t, os.WriteFile(filepath.Join(src, f), b, 0o644))
		changed += int64(len(b))
	}
	rec := backupOK(t, src, repo, BackupOptions{})
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	// Verify reads the manifest, and changed-only the list of entries
	// written, through the mount too.
	size := func(p string) int64 {
		st, err := os.Stat(p)
		must(t, err)
		return st.Size()
	}
	man, list := size(manifestPath(repo, rec.ID)), size(wrotePath(repo, rec.ID))
	for _, bc := range []struct {
		full bool
		want int64
	}{{false, man + list + changed}, {true, man + changed + 8*64<<10}} {
		must(t, m.Reset())
		r, err := Verify(context.Background(), m.Dir()+"/repo", rec.ID, VerifyOptions{Full: bc.full})
		if err != nil || r.Status != kpi.StatusSuccess {
			t.Fatalf("verify (full %v): %v, %+v", bc.full, err, r)
		}
		c, err := m.Counts()
		must(t, err)
		if c.BytesRead != bc.want {
			t.Errorf("verify (full %v) read %d bytes, want %d", bc.full, c.BytesRead, bc.want)
		}
	}
}

// TestBackupManifestReadsNoData backs up through latencyfs twice with no
// change between: the second backup reads no file data at all, yet its
// manifest has every file's hash, the first's, and verifies in full.
func TestBackupManifestReadsNoData(t *testing.T) {
	backing := testtree.TempDir(t)
	src := filepath.Join(backing, "src")
	must(t, os.Mkdir(src, 0o755))
	o := testtree.Small(81)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	m := latencyfs.Start(t, backing, latencyfs.Options{})
	msrc, repo := m.Dir()+"/src", m.Dir()+"/repo"
	first := backupOK(t, msrc, repo, BackupOptions{})
	// Any read of file data in the source or in a snapshot fails: the
	// backup reads only its own files in repo/.efsync.
	var faults []latencyfs.Fault
	for _, top := range []string{"src", "repo/daily"} {
		for p := top + "/*"; len(p) < len(top)+2*10; p += "/*" {
			faults = append(faults, latencyfs.Fault{Op: "read", Path: p, Errno: syscall.EIO})
		}
	}
	must(t, m.SetFaults(faults))
	second := backupOK(t, msrc, repo, BackupOptions{})
	must(t, m.SetFaults(nil))
	a := readManifest(t, manifestPath(filepath.Join(backing, "repo"), first.ID))
	b := readManifest(t, manifestPath(filepath.Join(backing, "repo"), second.ID))
	if len(a) != len(b) || len(a) < 100 {
		t.Fatalf("manifests of %d and %d records", len(a), len(b))
	}
	files := 0
	for i := range a {
		if a[i] != b[i] && a[i].Target == b[i].Target {
			t.Errorf("%s: %+v, then %+v", a[i].Path, a[i], b[i])
		}
		if b[i].Type == manifest.TypeFile {
			files++
			if !b[i].HasHash {
				t.Errorf("%s: no hash", b[i].Path)
			}
		}
	}
	if files == 0 {
		t.Fatal("no file in the manifest")
	}
	r, err := Verify(context.Background(), repo, second.ID, VerifyOptions{Full: true})
	if err != nil || r.Status != kpi.StatusSuccess {
		t.Errorf("full verify of the second snapshot: %v, %+v", err, r)
	}
}
