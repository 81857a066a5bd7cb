package manifest

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{name: "equal", a: "a/b", b: "a/b", want: 0},
		{name: "root first", a: ".", b: "-", want: -1},
		{name: "root before dotfile", a: ".", b: ".a", want: -1},
		{name: "root after nothing", a: "a", b: ".", want: +1},
		{name: "parent before child", a: "a", b: "a/b", want: -1},
		{name: "child before sibling with dot", a: "a/b", b: "a.b", want: -1},
		{name: "child before sibling with dash", a: "a/z", b: "a-b", want: -1},
		{name: "bytewise in a component", a: "a/B", b: "a/a", want: -1},
		{name: "prefix component", a: "ab", b: "abc", want: -1},
		{name: "high bytes", a: "a/\xff", b: "a/\x01", want: +1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compare(tt.a, tt.b); got != tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := Compare(tt.b, tt.a); got != -tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

// TestCompareKeepsSubtreesTogether: a directory's entries follow it,
// before any other name that shares its prefix.
func TestCompareKeepsSubtreesTogether(t *testing.T) {
	paths := []string{"a.b", "a/c", "a", ".", "a/b/c", "a-", "a/b", "b", "a/b.c", "a0"}
	slices.SortFunc(paths, Compare)
	want := []string{".", "a", "a/b", "a/b/c", "a/b.c", "a/c", "a-", "a.b", "a0", "b"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		name string
		mode fs.FileMode
		want Type
	}{
		{name: "file", mode: 0o644, want: TypeFile},
		{name: "dir", mode: fs.ModeDir | 0o755, want: TypeDir},
		{name: "symlink", mode: fs.ModeSymlink | 0o777, want: TypeSymlink},
		{name: "chardev", mode: fs.ModeDevice | fs.ModeCharDevice, want: TypeCharDev},
		{name: "blockdev", mode: fs.ModeDevice, want: TypeBlockDev},
		{name: "fifo", mode: fs.ModeNamedPipe, want: TypeFIFO},
		{name: "socket", mode: fs.ModeSocket, want: TypeSocket},
		{name: "irregular", mode: fs.ModeIrregular, want: TypeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TypeOf(tt.mode); got != tt.want {
				t.Errorf("TypeOf(%v) = %v, want %v", tt.mode, got, tt.want)
			}
		})
	}
	if s := Type(42).String(); s != "type(42)" {
		t.Errorf("Type(42).String() = %q", s)
	}
}

func TestModeOf(t *testing.T) {
	m := fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | fs.ModeDir | 0o750
	if got := ModeOf(m); got != 0o7750 {
		t.Errorf("ModeOf(%v) = %#o, want 07750", m, got)
	}
}

func TestXattrHash(t *testing.T) {
	if XattrHash(nil) != ([16]byte{}) {
		t.Error("no xattrs: want the zero digest")
	}
	a := XattrHash(map[string][]byte{"user.a": []byte("1"), "user.b": nil})
	b := XattrHash(map[string][]byte{"user.b": nil, "user.a": []byte("1")})
	if a != b {
		t.Error("digest depends on map order")
	}
	// Length prefixes keep name and value apart.
	c := XattrHash(map[string][]byte{"user.a1": nil, "user.b": nil})
	if a == c || a == ([16]byte{}) {
		t.Errorf("digests collide: %x %x", a, c)
	}
}
