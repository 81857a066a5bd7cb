package partition

import (
	"slices"
	"strings"
)

// devIno identifies an inode.
type devIno struct{ dev, ino uint64 }

// links holds the entries of hard-link groups until every link of a group
// is seen, so that a group is placed whole, in one chunk, with its bytes
// counted once. fpart places each link on its own, and fpsync then copies
// each as a separate file (martymac/fpart#8).
//
// A group's nlink also counts links outside the tree (or excluded), so
// some groups never complete: rest returns them when the crawl is over.
// Until then they are held in memory. A link made or removed during the
// crawl changes nlink under our feet: a group then waits for the end, or
// (a link added after the group completed) a late link forms a group of
// its own; the copier sees a changed source either way. links is used
// under the assembler's mutex.
type links struct {
	groups map[devIno][]Entry
}

// add adds e, an entry with e.linked(), and returns its group as an item
// once it has e.Nlink entries.
func (l *links) add(e Entry) (item, bool) {
	if l.groups == nil {
		l.groups = map[devIno][]Entry{}
	}
	k := devIno{e.Dev, e.Ino}
	g := append(l.groups[k], e)
	if uint64(len(g)) < e.Nlink {
		l.groups[k] = g
		return item{}, false
	}
	delete(l.groups, k)
	return item{group: g, bytes: g[0].bytes()}, true
}

// rest removes and returns the groups that never completed, ordered by
// their first path so that runs on the same tree agree.
func (l *links) rest() []item {
	var items []item
	for _, g := range l.groups {
		items = append(items, item{group: g, bytes: g[0].bytes()})
	}
	l.groups = nil
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.group[0].Path, b.group[0].Path) })
	return items
}
