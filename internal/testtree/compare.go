package testtree

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// CompareOptions says what Compare treats as equal. The zero value is the
// strictest comparison: every field exact, times to the nanosecond.
type CompareOptions struct {
	// MtimeWindow is how far apart two mtimes may be and still be equal,
	// for file systems with coarse times.
	MtimeWindow time.Duration
	// AllocSlack is how far two regular files' allocated sizes may differ.
	// Zero means DefaultAllocSlack; a negative value ignores allocation,
	// for copies onto a file system that allocates differently.
	AllocSlack int64
	// IgnoreOwner skips uid and gid, for copies made without privilege.
	IgnoreOwner bool
	// IgnoreXattrs skips extended attributes whose names have one of these
	// prefixes, such as "security.".
	IgnoreXattrs []string
	// NoHash compares sizes but not content.
	NoHash bool
}

// DefaultAllocSlack is big enough for file systems' own rounding and
// preallocation, and far smaller than a filled hole in a test tree.
const DefaultAllocSlack = 256 << 10

// Diff is one difference between two trees: a field of the entry at Path,
// with its value in each. Field is "missing" (only in the source), "extra"
// (only in the destination), or a Node field in lower case ("mode", "mtime",
// "content", "links", "alloc", ...), or "xattr NAME".
type Diff struct {
	Path     string
	Field    string
	Src, Dst string
}

// String formats d as one readable line.
func (d Diff) String() string {
	p := d.Path
	if !strconv.CanBackquote(p) || strings.ContainsAny(p, " \t") {
		p = strconv.Quote(p)
	}
	return fmt.Sprintf("%s: %s: %s → %s", p, d.Field, d.Src, d.Dst)
}

// Compare reads both trees, hashing content unless opt.NoHash, and returns
// every difference between them, sorted by path.
func Compare(ctx context.Context, src, dst string, opt CompareOptions) ([]Diff, error) {
	a, err := Scan(ctx, src, !opt.NoHash)
	if err != nil {
		return nil, err
	}
	b, err := Scan(ctx, dst, !opt.NoHash)
	if err != nil {
		return nil, err
	}
	return CompareSnapshots(a, b, opt), nil
}

// CompareSnapshots returns every difference between a and b, sorted.
func CompareSnapshots(a, b Snapshot, opt CompareOptions) []Diff {
	var diffs []Diff
	cmpOpts := opt.cmpOptions()
	for rel, x := range a {
		y, ok := b[rel]
		switch {
		case !ok:
			diffs = append(diffs, Diff{rel, "missing", x.Type.String(), "(none)"})
		case x.Type != y.Type:
			diffs = append(diffs, Diff{rel, "type", x.Type.String(), y.Type.String()})
		default:
			r := &reporter{}
			cmp.Equal(opt.view(x), opt.view(y), append(cmpOpts, cmp.Reporter(r))...)
			for _, d := range r.diffs {
				d.Path = rel
				diffs = append(diffs, d)
			}
		}
	}
	for rel, y := range b {
		if _, ok := a[rel]; !ok {
			diffs = append(diffs, Diff{rel, "extra", "(none)", y.Type.String()})
		}
	}
	sort.Slice(diffs, func(i, j int) bool {
		if diffs[i].Path != diffs[j].Path {
			return diffs[i].Path < diffs[j].Path
		}
		return diffs[i].Field < diffs[j].Field
	})
	return diffs
}

func (opt CompareOptions) cmpOptions() []cmp.Option {
	o := []cmp.Option{
		cmpopts.IgnoreUnexported(Node{}),
		// Links is one value: report the group, not each member.
		cmp.Comparer(func(x, y []string) bool { return slices.Equal(x, y) }),
		cmp.Comparer(func(x, y Nanos) bool {
			d := time.Duration(x - y)
			return d.Abs() <= opt.MtimeWindow
		}),
	}
	slack := opt.AllocSlack
	if slack == 0 {
		slack = DefaultAllocSlack
	}
	alloc := cmp.FilterPath(func(p cmp.Path) bool {
		f, ok := p.Last().(cmp.StructField)
		return ok && f.Name() == "Alloc"
	}, cmp.Comparer(func(x, y int64) bool { return slack < 0 || max(x-y, y-x) <= slack }))
	o = append(o, alloc)
	if opt.IgnoreOwner {
		o = append(o, cmpopts.IgnoreFields(Node{}, "UID", "GID"))
	}
	return o
}

// view returns n as Compare sees it, without the xattrs it ignores.
func (opt CompareOptions) view(n *Node) Node {
	v := *n
	// Never nil, so that go-cmp compares key by key and names the key.
	v.Xattrs = make(map[string]Xattr, len(n.Xattrs))
	for k, x := range n.Xattrs {
		if !slices.ContainsFunc(opt.IgnoreXattrs, func(p string) bool { return strings.HasPrefix(k, p) }) {
			v.Xattrs[k] = x
		}
	}
	return v
}

// reporter collects go-cmp's unequal leaves as Diffs.
type reporter struct {
	path  cmp.Path
	diffs []Diff
}

func (r *reporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *reporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *reporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	var field string
	for _, s := range r.path {
		switch s := s.(type) {
		case cmp.StructField:
			field = strings.ToLower(s.Name())
		case cmp.MapIndex:
			field = "xattr " + s.Key().String()
		}
	}
	switch field {
	case "hash":
		field = "content"
	case "xattrs":
		field = "xattr"
	}
	vx, vy := r.path.Last().Values()
	r.diffs = append(r.diffs, Diff{Field: field, Src: format(vx), Dst: format(vy)})
}

func format(v reflect.Value) string {
	if !v.IsValid() {
		return "(none)"
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	if l, ok := v.Interface().([]string); ok {
		return fmt.Sprintf("%q", l)
	}
	if s, ok := v.Interface().(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v.Interface())
}
