package kpi_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
)

func TestClassify(t *testing.T) {
	_, missing := os.Open(filepath.Join(t.TempDir(), "missing"))
	tests := []struct {
		name string
		err  error
		want kpi.Class
	}{
		{"nil", nil, kpi.ClassOther},
		{"plain", errors.New("boom"), kpi.ClassOther},
		{"EROFS", syscall.EROFS, kpi.ClassOther},
		{"EIO", syscall.EIO, kpi.ClassIO},
		{"EIO in PathError", &os.PathError{Op: "read", Path: "a", Err: syscall.EIO}, kpi.ClassIO},
		{"EACCES in PathError", &os.PathError{Op: "open", Path: "a", Err: syscall.EACCES}, kpi.ClassPermission},
		{"EPERM in wrapped PathError", fmt.Errorf("copy a: %w",
			&os.PathError{Op: "chown", Path: "a", Err: syscall.EPERM}), kpi.ClassPermission},
		{"ENOSPC", fmt.Errorf("write a: %w", syscall.ENOSPC), kpi.ClassNoSpace},
		{"EDQUOT in LinkError", &os.LinkError{Op: "link", Old: "a", New: "b", Err: syscall.EDQUOT}, kpi.ClassNoSpace},
		{"ESTALE", &os.PathError{Op: "stat", Path: "a", Err: syscall.ESTALE}, kpi.ClassTransient},
		{"ETIMEDOUT", syscall.ETIMEDOUT, kpi.ClassTransient},
		{"EAGAIN", syscall.EAGAIN, kpi.ClassTransient},
		{"EINTR", os.NewSyscallError("read", syscall.EINTR), kpi.ClassTransient},
		{"ENOENT", syscall.ENOENT, kpi.ClassVanished},
		{"ENOENT from os.Open", missing, kpi.ClassVanished},
		{"fs.ErrNotExist", fmt.Errorf("walk: %w", os.ErrNotExist), kpi.ClassVanished},
		{"canceled", fmt.Errorf("copy a: %w", context.Canceled), kpi.ClassCanceled},
		{"deadline", context.DeadlineExceeded, kpi.ClassCanceled},
		{"canceled wins over EIO", errors.Join(syscall.EIO, context.Canceled), kpi.ClassCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kpi.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassText(t *testing.T) {
	for c := kpi.ClassOther; c <= kpi.ClassCanceled; c++ {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%d): %v", c, err)
		}
		var got kpi.Class
		if err := got.UnmarshalText(b); err != nil || got != c {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, got, err, c)
		}
		if string(b) != c.String() {
			t.Errorf("MarshalText = %q, String = %q", b, c.String())
		}
	}
	var c kpi.Class
	if err := c.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("UnmarshalText(bogus) succeeded")
	}
	if _, err := kpi.Class(200).MarshalText(); err == nil {
		t.Error("MarshalText(200) succeeded")
	}
}

func TestErrorKeepsFirst(t *testing.T) {
	c := kpi.New(kpi.Options{MaxErrors: 2})
	c.Error("a", syscall.EIO)
	c.Error("b", &os.PathError{Op: "open", Path: "b", Err: syscall.EACCES})
	c.Error("c", syscall.EIO)
	c.Error("gone", syscall.ENOENT) // vanished, not an error
	c.Error("nil", nil)             // ignored
	r := c.Report()
	want := kpi.ErrorSummary{
		Total:   3,
		ByClass: kpi.ErrorCounts{IO: 2, Permission: 1},
		First: []kpi.ErrorRecord{
			{Path: "a", Class: kpi.ClassIO, Message: "input/output error"},
			{Path: "b", Class: kpi.ClassPermission, Message: "open b: permission denied"},
		},
	}
	if diff := cmp.Diff(want, r.Errors); diff != "" {
		t.Errorf("Errors (-want +got):\n%s", diff)
	}
	if r.Vanished != 1 || len(r.VanishedPaths) != 1 || r.VanishedPaths[0] != "gone" {
		t.Errorf("Vanished = %d %q, want 1 [gone]", r.Vanished, r.VanishedPaths)
	}
}

func TestMaxErrorsNegativeKeepsNone(t *testing.T) {
	c := kpi.New(kpi.Options{MaxErrors: -1})
	c.Error("a", syscall.EIO)
	c.Vanished("b")
	r := c.Report()
	if r.Errors.Total != 1 || len(r.Errors.First) != 0 || r.Vanished != 1 || len(r.VanishedPaths) != 0 {
		t.Errorf("got total %d kept %d, vanished %d kept %d; want 1 0 1 0",
			r.Errors.Total, len(r.Errors.First), r.Vanished, len(r.VanishedPaths))
	}
}
