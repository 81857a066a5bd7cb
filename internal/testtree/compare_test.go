package testtree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// cmpTree is small and holds one entry of each kind an attribute can live on.
func cmpTree() *Tree {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return &Tree{Entries: []Entry{
		{Path: ".", Type: Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: t0},
		{Path: "d", Type: Dir, Mode: 0o755, UID: -1, GID: -1, Mtime: t0.Add(1)},
		{Path: "d/f", Type: File, Mode: 0o644, UID: -1, GID: -1, Mtime: t0.Add(2), Size: 5000, Seed: 1},
		{Path: "d/h1", Type: File, Mode: 0o600, UID: -1, GID: -1, Mtime: t0.Add(3), Size: 10, Seed: 2},
		{Path: "d/h2", Type: File, LinkOf: "d/h1"},
		{Path: "d/l", Type: Symlink, UID: -1, GID: -1, Mtime: t0.Add(4), Target: "f"},
		{Path: "d/x", Type: File, Mode: 0o644, UID: -1, GID: -1, Mtime: t0.Add(5), Size: 1,
			Xattrs: map[string]string{"user.k": "v", "system.posix_acl_access": ACL("user::rw-", "user:1000:r--", "group::r--", "mask::r--", "other::r--")}},
		{Path: "d/s", Type: File, Mode: 0o644, UID: -1, GID: -1, Mtime: t0.Add(6), Size: 4 << 20,
			Data: []Extent{{0, 4096}}, Seed: 3},
		{Path: "d/p", Type: Fifo, Mode: 0o644, UID: -1, GID: -1, Mtime: t0.Add(7)},
		{Path: "d/c", Type: CharDev, Mode: 0o644, UID: -1, GID: -1, Mtime: t0.Add(8), Rdev: unix.Mkdev(1, 3)},
	}}
}

// at is a (path, field) pair of a diff.
type at struct{ Path, Field string }

func TestCompareFindsEveryAttribute(t *testing.T) {
	root := os.Geteuid() == 0
	tests := []struct {
		name     string
		needRoot bool
		change   func(t *testing.T, b string)
		want     []at
	}{
		{"type", false, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/f", func() { must(t, os.Remove(b+"/d/f")); must(t, unix.Mkfifo(b+"/d/f", 0o644)) })
			setTime(t, b+"/d/f", time.Date(2025, 3, 4, 5, 6, 7, 123456791, time.UTC))
		}, []at{{"d/f", "type"}}},
		{"mode", false, func(t *testing.T, b string) { must(t, os.Chmod(b+"/d/f", 0o640)) }, []at{{"d/f", "mode"}}},
		{"setuid", false, func(t *testing.T, b string) { must(t, unix.Chmod(b+"/d/f", 0o4644)) }, []at{{"d/f", "mode"}}},
		{"dir mode", false, func(t *testing.T, b string) { must(t, unix.Chmod(b+"/d", 0o1755)) }, []at{{"d", "mode"}}},
		{"uid", true, func(t *testing.T, b string) { must(t, os.Lchown(b+"/d/f", 1234, -1)) }, []at{{"d/f", "uid"}}},
		{"gid", true, func(t *testing.T, b string) { must(t, os.Lchown(b+"/d/f", -1, 1234)) }, []at{{"d/f", "gid"}}},
		{"symlink owner", true, func(t *testing.T, b string) { must(t, os.Lchown(b+"/d/l", 1234, -1)) }, []at{{"d/l", "uid"}}},
		{"size", false, func(t *testing.T, b string) { keepTime(t, b+"/d/f", func() { must(t, os.Truncate(b+"/d/f", 5001)) }) },
			[]at{{"d/f", "content"}, {"d/f", "size"}}},
		{"content, same size and mtime", false, func(t *testing.T, b string) {
			keepTime(t, b+"/d/f", func() { writeAt(t, b+"/d/f", 2500, []byte{'!'}) })
		}, []at{{"d/f", "content"}}},
		{"mtime ns", false, func(t *testing.T, b string) { addNs(t, b+"/d/f") }, []at{{"d/f", "mtime"}}},
		{"dir mtime ns", false, func(t *testing.T, b string) { addNs(t, b+"/d") }, []at{{"d", "mtime"}}},
		{"root mtime ns", false, func(t *testing.T, b string) { addNs(t, b) }, []at{{".", "mtime"}}},
		{"symlink mtime ns", false, func(t *testing.T, b string) { addNs(t, b+"/d/l") }, []at{{"d/l", "mtime"}}},
		{"symlink target", false, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/l", func() {
				must(t, os.Remove(b+"/d/l"))
				must(t, os.Symlink("g", b+"/d/l"))
			})
			setTime(t, b+"/d/l", time.Date(2025, 3, 4, 5, 6, 7, 123456793, time.UTC))
		}, []at{{"d/l", "target"}}},
		{"xattr changed", false, func(t *testing.T, b string) { must(t, unix.Lsetxattr(b+"/d/x", "user.k", []byte("w"), 0)) },
			[]at{{"d/x", "xattr user.k"}}},
		{"xattr added", false, func(t *testing.T, b string) { must(t, unix.Lsetxattr(b+"/d/f", "user.new", []byte("1"), 0)) },
			[]at{{"d/f", "xattr user.new"}}},
		{"xattr removed", false, func(t *testing.T, b string) { must(t, unix.Lremovexattr(b+"/d/x", "user.k")) },
			[]at{{"d/x", "xattr user.k"}}},
		{"acl", false, func(t *testing.T, b string) {
			acl := ACL("user::rw-", "user:1001:r--", "group::r--", "mask::r--", "other::r--")
			must(t, unix.Lsetxattr(b+"/d/x", "system.posix_acl_access", []byte(acl), 0))
		}, []at{{"d/x", "xattr system.posix_acl_access"}}},
		{"hard link split", false, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/h2", func() {
				data, err := os.ReadFile(b + "/d/h1")
				must(t, err)
				must(t, os.Remove(b+"/d/h2"))
				must(t, os.WriteFile(b+"/d/h2", data, 0o600))
			})
			st := lstat(t, b+"/d/h1")
			setTime(t, b+"/d/h2", time.Unix(0, st.Mtim.Nano()))
		}, []at{{"d/h1", "links"}, {"d/h2", "links"}}},
		{"hard link added", false, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/f2", func() { must(t, os.Link(b+"/d/f", b+"/d/f2")) })
		}, []at{{"d/f", "links"}, {"d/f2", "extra"}}},
		{"holes filled", false, func(t *testing.T, b string) {
			keepTime(t, b+"/d/s", func() {
				f, err := os.OpenFile(b+"/d/s", os.O_WRONLY, 0)
				must(t, err)
				_, err = f.WriteAt(make([]byte, 4<<20-4096), 4096)
				must(t, err)
				must(t, f.Close())
			})
		}, []at{{"d/s", "alloc"}}},
		{"missing", false, func(t *testing.T, b string) { keepParentTime(t, b, "d/p", func() { must(t, os.Remove(b+"/d/p")) }) },
			[]at{{"d/p", "missing"}}},
		{"extra", false, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/new", func() { must(t, os.Mkdir(b+"/d/new", 0o755)) })
		}, []at{{"d/new", "extra"}}},
		{"device number", true, func(t *testing.T, b string) {
			keepParentTime(t, b, "d/c", func() {
				must(t, os.Remove(b+"/d/c"))
				must(t, unix.Mknod(b+"/d/c", unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))))
			})
			setTime(t, b+"/d/c", time.Date(2025, 3, 4, 5, 6, 7, 123456797, time.UTC))
		}, []at{{"d/c", "rdev"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && !root {
				t.Skip("needs root")
			}
			a, b := TempDir(t), TempDir(t)
			for _, d := range []string{a, b} {
				if _, err := cmpTree().Build(d); err != nil {
					t.Fatal(err)
				}
			}
			if diffs := compare(t, a, b); len(diffs) != 0 {
				t.Fatalf("identical builds differ: %v", diffs)
			}
			tt.change(t, b)
			diffs := compare(t, a, b)
			var got []at
			for _, d := range diffs {
				got = append(got, at{d.Path, d.Field})
				t.Log(d)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("diffs (-want +got):\n%s", d)
			}
		})
	}
}

func compare(t *testing.T, a, b string) []Diff {
	t.Helper()
	diffs, err := Compare(context.Background(), a, b, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return diffs
}

func TestCompareOptions(t *testing.T) {
	a, b := TempDir(t), TempDir(t)
	for _, d := range []string{a, b} {
		if _, err := cmpTree().Build(d); err != nil {
			t.Fatal(err)
		}
	}
	addNs(t, b+"/d/f")
	must(t, unix.Lsetxattr(b+"/d/f", "user.ignored", []byte("1"), 0))
	diffs, err := Compare(context.Background(), a, b, CompareOptions{MtimeWindow: time.Microsecond, IgnoreXattrs: []string{"user.ig"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 0 {
		t.Errorf("within the window and ignored prefix, got %v", diffs)
	}
}

func TestDiffString(t *testing.T) {
	d := Diff{Path: "a\nb", Field: "mode", Src: Mode(0o644).String(), Dst: Mode(0o4755).String()}
	if got, want := d.String(), `"a\nb": mode: 0644 → 4755`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	acl := Xattr(ACL("user::rw-", "user:1000:r--", "group::r--", "mask::r--", "other::---")).String()
	if want := "acl(user::rw-,user:1000:r--,group::r--,mask::r--,other::---)"; acl != want {
		t.Errorf("acl = %s, want %s", acl, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	return st
}

func setTime(t *testing.T, p string, m time.Time) {
	t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(m.UnixNano()), unix.NsecToTimespec(m.UnixNano())}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
}

func addNs(t *testing.T, p string) {
	t.Helper()
	st := lstat(t, p)
	setTime(t, p, time.Unix(0, st.Mtim.Nano()+1))
}

// keepTime runs f and puts p's mtime back as it was.
func keepTime(t *testing.T, p string, f func()) {
	t.Helper()
	st := lstat(t, p)
	f()
	setTime(t, p, time.Unix(0, st.Mtim.Nano()))
}

// keepParentTime runs f, which adds or removes rel, and puts its parent
// directory's mtime back.
func keepParentTime(t *testing.T, root, rel string, f func()) {
	t.Helper()
	keepTime(t, filepath.Dir(filepath.Join(root, rel)), f)
}

func writeAt(t *testing.T, p string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt(b, off)
	must(t, err)
	must(t, f.Close())
}
