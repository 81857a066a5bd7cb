package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
)

func TestSyncMirrorsAndSaysSo(t *testing.T) {
	f := newSyncFixture(t, t.TempDir())
	code, out, errOut := f.sync("-E", "--json", f.src+"/", f.dst)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if r := report(t, out); r.Status != "success" || r.Files.Created == 0 || r.RunID == "" {
		t.Errorf("report: %+v", r)
	}
	exactCopy(t, f.src, f.dst)
	code, out, _ = f.sync("--list-runs", f.src, f.dst)
	if code != 0 || !strings.Contains(out, "success") || strings.Count(out, "\n") != 1 {
		t.Errorf("--list-runs: exit %d\n%s", code, out)
	}
}

// TestSyncBadInput checks that bad input exits 1 with one line naming the
// cause, before anything is touched.
func TestSyncBadInput(t *testing.T) {
	base := t.TempDir()
	f := newSyncFixture(t, base)
	ro := filepath.Join(base, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if testenv.Root() {
		out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput()
		testenv.Need(t, err == nil, "a read-only tmpfs can't be mounted here: "+string(out))
		t.Cleanup(func() { exec.Command("umount", ro).Run() })
	} else if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing source", []string{filepath.Join(base, "nope"), f.dst}, "no such file"},
		{"destination inside the source", []string{f.src, filepath.Join(f.src, "copy")}, "inside the source"},
		{"same path twice", []string{f.src, f.src + "/"}, "same directory"},
		{"unwritable destination", []string{f.src, filepath.Join(ro, "dst")}, "not writable"},
		{"unknown flag", []string{"--frobnicate", f.src, f.dst}, "frobnicate"},
		{"flag after the paths", []string{f.src, f.dst, "-E"}, "flags go before SRC"},
		{"one path", []string{f.src}, "want SRC and DST"},
		{"bad --max-delete", []string{"--max-delete", "lots", f.src, f.dst}, "--max-delete"},
		{"unknown run", []string{"--resume", "20200101T000000Z-000000", f.src, f.dst}, "no such run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(base)
			code, out, errOut := f.sync(tt.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if !strings.Contains(errOut, tt.want) || (tt.name != "unknown flag" && len(lines) != 1) {
				t.Errorf("stderr %q: want one line saying %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			if after, _ := os.ReadDir(base); len(after) != len(before) {
				t.Errorf("something was created: %v → %v", before, after)
			}
		})
	}
}

// TestSyncGuardsFailAndTouchNothing checks exit code 4 for an empty source
// under --require-mount and for a delete pass above --max-delete, and that
// the destination is exactly as it was.
func TestSyncGuardsFailAndTouchNothing(t *testing.T) {
	f := newSyncFixture(t, t.TempDir())
	if code, _, errOut := f.sync(f.src, f.dst); code != 0 {
		t.Fatalf("first sync: exit %d\n%s", code, errOut)
	}
	empty := filepath.Join(f.base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f.dst)
	code, _, errOut := f.sync("-E", "--require-mount", empty, f.dst)
	if code != 4 || !strings.Contains(errOut, "refusing") {
		t.Errorf("--require-mount with an empty source: exit %d, want 4\n%s", code, errOut)
	}
	untouched(t, before, f.dst)

	// The source loses most of its entries, as when the wrong file
	// system is mounted there.
	ents, err := os.ReadDir(f.src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents[1:] {
		if err := os.RemoveAll(filepath.Join(f.src, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []string{"10", "50%"} {
		code, _, errOut = f.sync("-E", "--max-delete", limit, f.src, f.dst)
		if code != 4 || !strings.Contains(errOut, "nothing was deleted") {
			t.Errorf("--max-delete %s: exit %d, want 4\n%s", limit, code, errOut)
		}
		untouched(t, before, f.dst)
	}
	if code, _, errOut = f.sync("-E", "--max-delete", "100000", f.src, f.dst); code != 0 {
		t.Errorf("under the limit: exit %d\n%s", code, errOut)
	}
	exactCopy(t, f.src, f.dst)
}

// TestSyncDeadlineIsIncomplete checks exit code 3 for a run stopped by
// --max-duration, and that a later run converges.
func TestSyncDeadlineIsIncomplete(t *testing.T) {
	f := newSyncFixture(t, t.TempDir())
	code, out, errOut := f.sync("--json", "--max-duration", "1ns", f.src, f.dst)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, errOut)
	}
	if r := report(t, out); r.Status != "incomplete" {
		t.Errorf("status %s", r.Status)
	}
	if code, _, errOut = f.sync("-E", f.src, f.dst); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, errOut)
	}
	exactCopy(t, f.src, f.dst)
}
