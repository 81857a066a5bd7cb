package partition

import (
	"fmt"
	"path"
	"strings"
)

// snapshotExcludes are fpsync's default excludes (fpsync -O): file system
// snapshot directories that a copy must not descend into.
var snapshotExcludes = [...]string{".zfs", ".snapshot*", ".ckpt"}

// Filter selects entries by shell patterns, like fpart -x/-X/-y/-Y.
//
// A pattern uses path.Match syntax (*, ?, [...], \). A pattern without a
// '/' matches an entry's name; one with a '/' matches its relative path
// ("logs/*.gz" matches "logs/a.gz", not "x/logs/a.gz"). fpart matches
// paths as it prints them, with the root in front; this matches them
// relative to the root, so patterns don't depend on where the tree is.
//
// An excluded entry is not listed and, for a directory, not crawled. When
// include patterns are given, a non-directory is listed only if one of
// them matches it; directories are always crawled and listed, as fpart
// crawls them, because a copier needs them. Excludes apply after includes.
type Filter struct {
	Exclude     []string // like fpart -x
	ExcludeFold []string // like fpart -X: ASCII case folded
	Include     []string // like fpart -y
	IncludeFold []string // like fpart -Y: ASCII case folded

	// SnapshotExcludes adds fpsync's default excludes: .zfs, .snapshot*
	// and .ckpt.
	SnapshotExcludes bool

	// ExcludePaths are relative paths, not patterns, left out with all
	// they hold: a program's own state kept inside the tree, say.
	ExcludePaths []string
}

// pattern is one compiled pattern.
type pattern struct {
	pat  string // lower-cased when fold
	fold bool
	path bool // matches the relative path, not the name
}

// matcher is a compiled Filter. It is read-only, so safe for concurrent use.
type matcher struct {
	exclude, include []pattern
	paths            map[string]bool
}

// compile checks f's patterns and returns its matcher.
func (f *Filter) compile() (*matcher, error) {
	m := &matcher{}
	var err error
	add := func(list *[]pattern, pats []string, fold bool) {
		for _, p := range pats {
			if _, e := path.Match(p, ""); e != nil && err == nil {
				err = fmt.Errorf("partition: pattern %q: %w", p, e)
			}
			if fold {
				p = lowerASCII(p)
			}
			*list = append(*list, pattern{pat: p, fold: fold, path: strings.Contains(p, "/")})
		}
	}
	add(&m.exclude, f.Exclude, false)
	add(&m.exclude, f.ExcludeFold, true)
	if f.SnapshotExcludes {
		add(&m.exclude, snapshotExcludes[:], false)
	}
	add(&m.include, f.Include, false)
	add(&m.include, f.IncludeFold, true)
	for _, p := range f.ExcludePaths {
		if m.paths == nil {
			m.paths = map[string]bool{}
		}
		m.paths[path.Clean(p)] = true
	}
	return m, err
}

// skip reports whether the entry name at rel is left out of the listing.
// It is a pure function of its arguments.
func (m *matcher) skip(name, rel string, dir bool) bool {
	if len(m.include) > 0 && !dir && !anyMatch(m.include, name, rel) {
		return true
	}
	if m.paths[rel] {
		return true
	}
	return len(m.exclude) > 0 && anyMatch(m.exclude, name, rel)
}

// anyMatch reports whether one of pats matches name or rel.
func anyMatch(pats []pattern, name, rel string) bool {
	for _, p := range pats {
		s := name
		if p.path {
			s = rel
		}
		if p.fold {
			s = lowerASCII(s)
		}
		if ok, _ := path.Match(p.pat, s); ok { // patterns were checked by compile
			return true
		}
	}
	return false
}

// lowerASCII lower-cases the ASCII letters of s and keeps every other byte,
// so that names that are not UTF-8 still match byte for byte.
func lowerASCII(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if 'A' <= b[j] && b[j] <= 'Z' {
			b[j] += 'a' - 'A'
		}
	}
	return string(b)
}
