package transfer

import (
	"strings"
	"testing"
)

func TestCheckRel(t *testing.T) {
	tests := []struct {
		name string
		rel  string
		ok   bool
	}{
		{"root", ".", true},
		{"name", "a", true},
		{"nested", "a/b/c", true},
		{"odd bytes", "a\n/\xff b/-c", true},
		{"dotfile", "a/.b", true},
		{"empty", "", false},
		{"absolute", "/a", false},
		{"dotdot", "a/../b", false},
		{"leading dotdot", "../a", false},
		{"dot", "a/./b", false},
		{"double slash", "a//b", false},
		{"trailing slash", "a/", false},
		{"nul", "a\x00b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkRel(tt.rel); (err == nil) != tt.ok {
				t.Errorf("checkRel(%q) = %v, want ok=%v", tt.rel, err, tt.ok)
			}
		})
	}
}

// FuzzRelPath checks that a path checkRel accepts never leaves its root,
// and that split and join take it apart and back together.
func FuzzRelPath(f *testing.F) {
	for _, s := range []string{".", "a", "a/b", "../a", "a/..", "/etc/passwd", "a//b", "a/./b", "\xff/\n", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		if checkRel(rel) != nil {
			return
		}
		depth := 0
		for _, c := range components(rel) {
			if c == ".." {
				depth--
			} else {
				depth++
			}
			if depth < 0 || strings.ContainsRune(c, '/') || c == "" {
				t.Fatalf("accepted %q, which escapes or has an empty name", rel)
			}
		}
		if rel == "." {
			return
		}
		dir, name := split(rel)
		if join(dir, name) != rel || name == "" || strings.Contains(name, "/") {
			t.Fatalf("split(%q) = %q, %q", rel, dir, name)
		}
		if !under(rel, dir) || checkRel(dir) != nil {
			t.Fatalf("parent %q of %q is not a clean path above it", dir, rel)
		}
	})
}
