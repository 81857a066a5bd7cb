package testtree

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Observe counts the shapes of the tree at root as they are on disk, by the
// same rules Build uses to count what it made.
func Observe(ctx context.Context, root string) (Counts, error) {
	s, err := Scan(ctx, root, false)
	if err != nil {
		return nil, err
	}
	c := Counts{}
	groups := map[string][]string{}
	for rel, n := range s {
		f := facts{path: rel, typ: n.Type, mode: uint32(n.Mode), size: n.Size, alloc: n.Alloc,
			mtimeNsec: int64(n.Mtime) % 1e9, target: n.Target, empty: n.Type == Dir && n.kids == 0,
			otherOwner: int(n.UID) != os.Geteuid() || int(n.GID) != os.Getegid()}
		if n.Type == Symlink && !strings.HasPrefix(n.Target, "/") {
			tp := filepath.Join(root, filepath.FromSlash(path.Dir(rel)), n.Target)
			if st, err := os.Stat(tp); err == nil {
				f.targetType = File
				if st.IsDir() {
					f.targetType = Dir
				}
			}
		}
		for name := range n.Xattrs {
			f.xattrs = append(f.xattrs, name)
		}
		c.classify(f)
		if len(n.Links) > 0 && n.Links[0] > rel {
			groups[rel] = append([]string{rel}, n.Links...)
		}
	}
	var gs [][]string
	for _, g := range groups {
		gs = append(gs, g)
	}
	c.classifyGroups(gs)
	return c, nil
}
