package transfer

import (
	"errors"
	"strings"
)

// errBadPath is returned for a relative path that could name something
// outside the tree: absolute, with "." or ".." or empty components, or a NUL.
var errBadPath = errors.New("not a clean relative path")

// checkRel reports whether rel is a clean relative slash path that stays
// inside its root: "." for the root, or names joined by single slashes,
// none of them "", "." or "..", and no NUL byte. Paths come from our own
// crawl, but a copier that writes under a root must not trust them.
func checkRel(rel string) error {
	if rel == "." {
		return nil
	}
	if rel == "" || strings.IndexByte(rel, 0) >= 0 || rel[0] == '/' {
		return errBadPath
	}
	for name := range strings.SplitSeq(rel, "/") {
		if name == "" || name == "." || name == ".." {
			return errBadPath
		}
	}
	return nil
}

// split returns rel's parent directory ("." at the top) and its last name.
// rel must pass checkRel and not be ".".
func split(rel string) (dir, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ".", rel
	}
	return rel[:i], rel[i+1:]
}

// join returns the path of name inside dir.
func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// components returns rel's names, none for ".".
func components(rel string) []string {
	if rel == "." {
		return nil
	}
	return strings.Split(rel, "/")
}

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool {
	return dir == "." || rel == dir || strings.HasPrefix(rel, dir+"/")
}
