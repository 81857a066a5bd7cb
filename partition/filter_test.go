package partition

import (
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestFilterSkip(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		rel    string
		dir    bool
		skip   bool
	}{
		{"no patterns", Filter{}, "a/b.txt", false, false},
		{"exclude by name", Filter{Exclude: []string{"*.txt"}}, "a/b.txt", false, true},
		{"exclude a dir by name", Filter{Exclude: []string{"cache"}}, "x/cache", true, true},
		{"exclude by path", Filter{Exclude: []string{"a/*.txt"}}, "a/b.txt", false, true},
		{"path pattern is anchored", Filter{Exclude: []string{"a/*.txt"}}, "x/a/b.txt", false, false},
		{"exclude is case-sensitive", Filter{Exclude: []string{"*.TXT"}}, "b.txt", false, false},
		{"exclude fold", Filter{ExcludeFold: []string{"*.TXT"}}, "B.txt", false, true},
		{"fold keeps other bytes", Filter{ExcludeFold: []string{"\xff*"}}, "\xffA", false, true},
		{"include matches", Filter{Include: []string{"*.dat"}}, "a/x.dat", false, false},
		{"include leaves others out", Filter{Include: []string{"*.dat"}}, "a/x.txt", false, true},
		{"include keeps dirs", Filter{Include: []string{"*.dat"}}, "a", true, false},
		{"include fold", Filter{IncludeFold: []string{"*.DAT"}}, "x.Dat", false, false},
		{"exclude after include", Filter{Include: []string{"*.dat"}, Exclude: []string{"x*"}}, "x.dat", false, true},
		{"snapshot .zfs", Filter{SnapshotExcludes: true}, ".zfs", true, true},
		{"snapshot .snapshot.1", Filter{SnapshotExcludes: true}, "a/.snapshot.1", true, true},
		{"snapshot .ckpt", Filter{SnapshotExcludes: true}, "a/.ckpt", false, true},
		{"snapshot off", Filter{}, ".zfs", true, false},
		{"name with newline", Filter{Exclude: []string{"new*"}}, "new\nline", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.filter.compile()
			if err != nil {
				t.Fatal(err)
			}
			name := tt.rel[lastSlash(tt.rel)+1:]
			if got := m.skip(name, tt.rel, tt.dir); got != tt.skip {
				t.Errorf("skip(%q) = %v, want %v", tt.rel, got, tt.skip)
			}
		})
	}
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func TestBadPatternFailsNewWalker(t *testing.T) {
	if _, err := NewWalker(".", Options{Filter: Filter{Include: []string{"[a-"}}}); err == nil {
		t.Error("NewWalker accepted the pattern [a-")
	}
}

func TestParseDirents(t *testing.T) {
	rec := func(ino uint64, typ uint8, name string) []byte {
		n := (direntName + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		b[direntIno] = byte(ino)
		b[direntReclen] = byte(n)
		b[direntType] = typ
		copy(b[direntName:], name)
		return b
	}
	var buf []byte
	for _, r := range [][]byte{rec(1, unix.DT_DIR, "."), rec(2, unix.DT_DIR, ".."), rec(3, unix.DT_REG, "file"),
		rec(0, unix.DT_REG, "deleted"), rec(4, unix.DT_DIR, "sub"), rec(5, unix.DT_UNKNOWN, "?"),
		rec(6, unix.DT_LNK, "bad\xff\nname")} {
		buf = append(buf, r...)
	}
	want := []dirent{{"file", unix.S_IFREG}, {"sub", unix.S_IFDIR}, {"?", 0}, {"bad\xff\nname", unix.S_IFLNK}}
	got := parseDirents(append(buf, 1, 2, 3), nil) // a truncated record at the end is ignored
	if d := cmp.Diff(want, got, cmp.AllowUnexported(dirent{})); d != "" {
		t.Errorf("parseDirents (-want +got):\n%s", d)
	}
}

func TestExcludePathsAreExact(t *testing.T) {
	m, err := (&Filter{ExcludePaths: []string{"state", "a/b[1]"}}).compile()
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{"state": true, "x/state": false, "a/b[1]": true, "a/b1": false, "a": false} {
		if got := m.skip(path.Base(rel), rel, true); got != want {
			t.Errorf("skip(%q) = %v, want %v", rel, got, want)
		}
	}
}
