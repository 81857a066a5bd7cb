package partition

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// declared builds a tree of directories and files declared as paths: a
// trailing slash makes a directory.
func declared(tb testing.TB, paths ...string) string {
	tb.Helper()
	t := &testtree.Tree{Entries: []testtree.Entry{{Path: ".", Type: testtree.Dir, Mode: 0o755, UID: -1, GID: -1}}}
	for _, p := range paths {
		e := testtree.Entry{Path: strings.TrimSuffix(p, "/"), Type: testtree.File, Mode: 0o644, Size: 10, UID: -1, GID: -1}
		if strings.HasSuffix(p, "/") {
			e.Type, e.Mode, e.Size = testtree.Dir, 0o755, 0
		}
		t.Entries = append(t.Entries, e)
	}
	dir := testtree.TempDir(tb) // removable even with read-only directories
	if _, err := t.Build(dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// errTree is the tree the error tests crawl.
var errTree = []string{"a/", "a/1", "a/2", "a/3", "a/sub/", "a/sub/x", "b/", "b/4", "c"}

// listing returns the paths of entries and those of the error entries.
func listing(chunks []Chunk) (paths, failed []string) {
	for _, e := range entries(chunks) {
		paths = append(paths, e.Path)
		if e.Err != nil {
			failed = append(failed, e.Path)
		}
	}
	return paths, failed
}

func TestFailedDirectoryIsAnErrorEntry(t *testing.T) {
	all := []string{".", "a", "a/1", "a/2", "a/3", "a/sub", "a/sub/x", "b", "b/4", "c"}
	tests := []struct {
		name       string
		op, rel    string
		errno      unix.Errno
		wantPaths  []string
		wantFailed []string
	}{
		{"open EACCES", "open", "a", unix.EACCES, []string{".", "a", "b", "b/4", "c"}, []string{"a"}},
		{"half-read EIO", "getdents", "a", unix.EIO, []string{".", "a", "b", "b/4", "c"}, []string{"a"}},
		{"half-read ENOMEM", "getdents", "a", unix.ENOMEM, []string{".", "a", "b", "b/4", "c"}, []string{"a"}},
		{"deep EIO", "getdents", "a/sub", unix.EIO, []string{".", "a", "a/1", "a/2", "a/3", "a/sub", "b", "b/4", "c"}, []string{"a/sub"}},
		{"root EIO", "getdents", ".", unix.EIO, []string{"."}, []string{"."}},
		{"lstat EIO", "lstat", "a/2", unix.EIO, all, []string{"a/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := declared(t, errTree...)
			ffs := newFaultFS(func(op, rel string) error {
				if op == tt.op && rel == tt.rel {
					return tt.errno
				}
				return nil
			})
			rec := &recorder{}
			chunks := walk(t, root, Options{Walkers: 4, Retries: 2, Reporter: rec, fs: ffs})
			paths, failed := listing(chunks)
			if d := cmp.Diff(tt.wantPaths, paths); d != "" {
				t.Errorf("paths (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantFailed, failed); d != "" {
				t.Errorf("error entries (-want +got):\n%s", d)
			}
			e := entries(chunks)[slices.Index(paths, tt.rel)]
			if !errors.Is(e.Err, tt.errno) || !strings.Contains(e.Err.Error(), tt.rel) || !e.Incomplete() {
				t.Errorf("entry %q: Err %v, want %v naming the path", tt.rel, e.Err, tt.errno)
			}
			if e.Mode == 0 || (tt.op != "lstat" && (!e.IsDir() || e.Ino == 0)) {
				t.Errorf("entry %q: mode %o ino %d: its lstat is missing", tt.rel, e.Mode, e.Ino)
			}
			if !errors.Is(rec.errors[tt.rel], tt.errno) || len(rec.errors) != 1 {
				t.Errorf("reported errors %v, want one for %q", rec.errors, tt.rel)
			}
			wantCalls := 1
			if tt.errno == unix.EIO {
				wantCalls = 3 // retried twice
			}
			if n := ffs.count(tt.op, tt.rel); n != wantCalls {
				t.Errorf("%s %s called %d times, want %d", tt.op, tt.rel, n, wantCalls)
			}
		})
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EINTR, unix.EAGAIN, unix.ESTALE, unix.EIO} {
		for _, op := range []string{"open", "getdents", "lstat"} {
			t.Run(op+"/"+errno.Error(), func(t *testing.T) {
				root := declared(t, errTree...)
				rel := "a"
				if op == "lstat" {
					rel = "a/2"
				}
				ffs := newFaultFS(nil)
				ffs.fail = func(o, r string) error {
					if o == op && r == rel && ffs.count(op, rel) <= 2 {
						return errno // fails twice, then works
					}
					return nil
				}
				chunks := walk(t, root, Options{Walkers: 2, fs: ffs})
				checkAll(t, root, chunks)
				if n := ffs.count(op, rel); n != 3 {
					t.Errorf("%s %s called %d times, want 3", op, rel, n)
				}
			})
		}
	}
}

func TestVanishedEntriesAreCounted(t *testing.T) {
	root := declared(t, errTree...)
	ffs := newFaultFS(func(op, rel string) error {
		if (op == "open" && rel == "a/sub") || (op == "lstat" && rel == "b/4") {
			return unix.ENOENT
		}
		return nil
	})
	rec := &recorder{}
	paths, failed := listing(walk(t, root, Options{Reporter: rec, fs: ffs}))
	want := []string{".", "a", "a/1", "a/2", "a/3", "b", "c"}
	if d := cmp.Diff(want, paths); d != "" || len(failed) > 0 {
		t.Errorf("paths (-want +got):\n%s\nerrors: %v", d, failed)
	}
	slices.Sort(rec.vanished)
	if d := cmp.Diff([]string{"a/sub", "b/4"}, rec.vanished); d != "" {
		t.Errorf("vanished (-want +got):\n%s", d)
	}
}

func TestErrorFuncStops(t *testing.T) {
	root := declared(t, errTree...)
	stop := errors.New("stop")
	ffs := newFaultFS(func(op, rel string) error {
		if op == "open" && rel == "b" {
			return unix.EACCES
		}
		return nil
	})
	_, err := tryWalk(context.Background(), root, Options{fs: ffs, ErrorFunc: func(rel string, err error) error {
		if rel == "b" && errors.Is(err, unix.EACCES) {
			return stop
		}
		return nil
	}})
	if err != stop {
		t.Errorf("Run = %v, want the ErrorFunc's error", err)
	}
}

func TestRootErrors(t *testing.T) {
	dir := declared(t, "file")
	tests := []struct {
		name  string
		root  string
		errno unix.Errno
	}{
		{"missing", dir + "/missing", unix.ENOENT},
		{"a file", dir + "/file", unix.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := tryWalk(context.Background(), tt.root, Options{})
			var pe *os.PathError
			if !errors.As(err, &pe) || pe.Path != tt.root || !errors.Is(err, tt.errno) {
				t.Errorf("Run = %v, want a PathError for %s: %v", err, tt.root, tt.errno)
			}
			if len(chunks) > 0 {
				t.Errorf("%d chunks sent", len(chunks))
			}
		})
	}
}

func TestCancelStopsAndClosesEverything(t *testing.T) {
	root := bigTree(t)
	before := openFDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := NewWalker(root, Options{Walkers: 8, MaxFiles: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Chunk)
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, out) }()
	<-out // one chunk, then stop reading: the walkers block
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if _, ok := <-out; ok {
		t.Error("out not closed")
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d fds open before, %d after", before, after)
	}
}

// openFDs returns how many fds the process has open.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}
