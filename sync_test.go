package efsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// exactCopy fails t unless dst is an exact copy of src (see
// testtree.RequireExact).
func exactCopy(t *testing.T, src, dst string) {
	t.Helper()
	testtree.RequireExact(t, src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
}

func TestSyncMirrors(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.Mkdir(src, 0o755))
	o := testtree.Small(61)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(context.Background(), src+"/", dst, Delete(), Workers(4))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("first sync: %v, %s", err, rep.Status)
	}
	exactCopy(t, src, dst)
	if rep.Scanned.Total() == 0 || rep.Files.Created == 0 {
		t.Errorf("report counts nothing: %+v %+v", rep.Scanned, rep.Files)
	}
	if _, err := testtree.Mutate(src, testtree.MutateOptions{Seed: 1, Percent: 10}); err != nil {
		t.Fatal(err)
	}
	rep, err = Sync(context.Background(), src, dst, Delete())
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("second sync: %v, %s", err, rep.Status)
	}
	exactCopy(t, src, dst)
}

func TestSyncRefusesBadInput(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	must(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "file"), nil, 0o644))
	tests := []struct {
		name     string
		src, dst string
	}{
		{"missing source", filepath.Join(base, "nope"), filepath.Join(base, "d1")},
		{"source is a file", filepath.Join(base, "file"), filepath.Join(base, "d2")},
		{"same path", src, src + "/"},
		{"destination inside the source", src, filepath.Join(src, "sub", "copy")},
		{"source inside the destination", filepath.Join(src, "sub"), src},
		{"destination is a file", src, filepath.Join(base, "file")},
		{"destination's parent missing", src, filepath.Join(base, "no", "dst")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(base)
			_, err := Sync(context.Background(), tt.src, tt.dst)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want a *UsageError", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			after, _ := os.ReadDir(base)
			if len(after) != len(before) {
				t.Errorf("something was created: %v → %v", before, after)
			}
		})
	}
}

func TestSyncGuards(t *testing.T) {
	base := t.TempDir()
	empty, full, dst := filepath.Join(base, "empty"), filepath.Join(base, "full"), filepath.Join(base, "dst")
	must(t, os.Mkdir(empty, 0o755))
	must(t, os.Mkdir(full, 0o755))
	must(t, os.WriteFile(filepath.Join(full, "f"), []byte("x"), 0o644))
	must(t, os.Mkdir(dst, 0o755))
	must(t, os.WriteFile(filepath.Join(dst, "keep"), []byte("precious"), 0o644))
	for _, tt := range []struct {
		name string
		src  string
		opt  Option
	}{
		{"empty source, require mount", empty, RequireMount()},
		{"not a mount point", full, RequireMount()},
		{"no sentinel file", full, func(o *Options) { o.RequireFile = ".efs-mounted" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Sync(context.Background(), tt.src, dst, tt.opt, Delete())
			if !errors.Is(err, ErrUnsafeSource) || rep == nil || rep.Status != kpi.StatusFailed || rep.Status.ExitCode() != 4 {
				t.Fatalf("got %v, %v; want ErrUnsafeSource and Failed", err, rep)
			}
			if b, err := os.ReadFile(filepath.Join(dst, "keep")); err != nil || string(b) != "precious" {
				t.Errorf("destination touched: %q, %v", b, err)
			}
		})
	}
}

func TestSyncDeadlineIsIncomplete(t *testing.T) {
	src, dst := testtree.TempDir(t), filepath.Join(t.TempDir(), "dst")
	if _, err := testtree.Plan(testtree.Large(1, 2000)).Build(src); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(context.Background(), src, dst, Deadline(time.Now().Add(-time.Second)))
	if !errors.Is(err, context.DeadlineExceeded) || rep.Status != kpi.StatusIncomplete || rep.Status.ExitCode() != 3 {
		t.Fatalf("got %v, %v; want DeadlineExceeded and Incomplete", err, rep.Status)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
