package testtree

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Options describes a generated tree. Zero counts leave a shape out.
type Options struct {
	Seed int64

	Files            int   // small regular files
	MinSize, MaxSize int64 // their sizes, log-uniform between these
	Dirs             int   // directories the files spread over
	MaxDepth         int   // of those directories
	Deep             int   // depth of one chain of nested directories
	EmptyDirs        int

	BigFiles       int
	BigMin, BigMax int64
	SparseFiles    int  // 8 MiB files with three 64 KiB data extents
	HugeSparse     bool // one file over 4 GiB, mostly a hole

	Symlinks  int // relative, absolute, dangling and to a directory, in turn
	HardLinks int // hard-link groups; the first spans distant directories

	Specials  bool // a fifo, a socket, and devices when privileged
	HardNames bool // spaces, newlines, non-UTF-8 bytes, 255 bytes, a leading '-'
	Xattrs    bool // user.* and trusted.* xattrs, POSIX ACLs
	Owners    bool // other owners (applied when privileged)
	Modes     bool // setuid, setgid, sticky, read-only directories
}

// Small returns options for a tree of a few hundred entries holding every
// shape, the default for tests.
func Small(seed int64) Options {
	return Options{Seed: seed, Files: 200, MaxSize: 64 << 10, Dirs: 20, MaxDepth: 4, Deep: 24, EmptyDirs: 3,
		BigFiles: 2, BigMin: 1 << 20, BigMax: 3 << 20, SparseFiles: 1, HugeSparse: true,
		Symlinks: 8, HardLinks: 4, Specials: true, HardNames: true, Xattrs: true, Owners: true, Modes: true}
}

// Large returns options for the benchmark tree of ../shared/BENCHMARKS.md
// scaled to files small files: 1–16 KiB in files/20 directories up to 20
// deep, a symlink per 50 files and a hard link per 100. It has no big files;
// set BigFiles (20 of 50–200 MiB in the baseline) where a benchmark wants them.
func Large(seed int64, files int) Options {
	return Options{Seed: seed, Files: files, MinSize: 1 << 10, MaxSize: 16 << 10, Dirs: max(files/20, 1),
		MaxDepth: 20, Symlinks: files / 50, HardLinks: files / 100, BigMin: 50 << 20, BigMax: 200 << 20}
}

// Plan returns the tree o describes. The same options give the same tree.
func Plan(o Options) *Tree {
	p := &planner{o: o, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)), t: &Tree{}}
	p.dir(".", 0o755)
	p.dirs()
	p.files()
	p.special()
	p.links()
	return p.t
}

type planner struct {
	o      Options
	rng    *rand.Rand
	t      *Tree
	dirs_  []string // directories files may go in
	files_ []string
	n      int // names made so far
}

// add appends e with a random mtime and the default owner.
func (p *planner) add(e Entry) *Entry {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	ns := p.rng.Int64N(1e9)
	if p.rng.IntN(10) == 0 {
		ns = 0 // some whole seconds too
	}
	e.Mtime = time.Unix(base+p.rng.Int64N(365*86400), ns)
	e.UID, e.GID = -1, -1
	e.Seed = p.rng.Uint64()
	p.t.Entries = append(p.t.Entries, e)
	return &p.t.Entries[len(p.t.Entries)-1]
}

func (p *planner) dir(rel string, mode uint32) *Entry {
	p.dirs_ = append(p.dirs_, rel)
	return p.add(Entry{Path: rel, Type: Dir, Mode: mode})
}

func (p *planner) file(rel string, size int64, mode uint32) *Entry {
	p.files_ = append(p.files_, rel)
	return p.add(Entry{Path: rel, Type: File, Size: size, Mode: mode})
}

func (p *planner) name(prefix string) string {
	p.n++
	return fmt.Sprintf("%s%06d", prefix, p.n)
}

func (p *planner) dirs() {
	o := p.o
	for i := 0; i < o.Dirs; i++ {
		par := "."
		if i > 0 && p.rng.IntN(4) != 0 {
			par = p.dirs_[1+p.rng.IntN(len(p.dirs_)-1)]
		}
		if depth(par)+1 >= o.MaxDepth && par != "." {
			par = "."
		}
		p.dir(path.Join(par, p.name("d")), 0o755)
	}
	if o.Deep > 0 {
		rel := "deep"
		p.dir(rel, 0o755)
		for i := 1; i < o.Deep; i++ {
			rel = path.Join(rel, fmt.Sprintf("l%02d", i))
			p.add(Entry{Path: rel, Type: Dir, Mode: 0o755})
		}
		p.file(path.Join(rel, "bottom.txt"), 100, 0o644)
	}
	for i := 0; i < o.EmptyDirs; i++ {
		p.add(Entry{Path: p.name("empty"), Type: Dir, Mode: 0o755})
	}
}

func (p *planner) files() {
	o := p.o
	modes := []uint32{0o644, 0o644, 0o644, 0o600, 0o640, 0o755, 0o444}
	for i := 0; i < o.Files; i++ {
		size := o.MinSize
		if o.MaxSize > o.MinSize {
			// log-uniform: many small files, some near the maximum
			lo, hi := float64(o.MinSize+1), float64(o.MaxSize+1)
			size = int64(lo*math.Pow(hi/lo, p.rng.Float64())) - 1
		}
		d := p.dirs_[p.rng.IntN(len(p.dirs_))]
		p.file(path.Join(d, p.name("f")+".dat"), size, modes[p.rng.IntN(len(modes))])
	}
	if o.BigFiles > 0 {
		p.dir("big", 0o755)
	}
	for i := 0; i < o.BigFiles; i++ {
		size := o.BigMin + p.rng.Int64N(max(o.BigMax-o.BigMin, 1))
		p.file(path.Join("big", p.name("b")+".bin"), size, 0o644)
	}
	if o.SparseFiles > 0 || o.HugeSparse {
		p.dir("sparse", 0o755)
	}
	const x = 64 << 10
	for i := 0; i < o.SparseFiles; i++ {
		e := p.file(path.Join("sparse", p.name("s")+".img"), 8<<20, 0o644)
		e.Data = []Extent{{0, x}, {4 << 20, x}, {8<<20 - x, x}}
	}
	if o.HugeSparse {
		e := p.file("sparse/huge.img", HugeSize+1<<20, 0o644)
		e.Data = []Extent{{0, x}, {2 << 30, x}, {e.Size - x, x}}
	}
}

// up returns the relative prefix that leads from directory dir to the root.
func up(dir string) string {
	if dir == "." {
		return ""
	}
	return strings.Repeat("../", depth(dir)+1)
}

func (p *planner) links() {
	o := p.o
	kinds := 0
	for i := 0; i < o.Symlinks && len(p.files_) > 0; i++ {
		d := p.dirs_[p.rng.IntN(len(p.dirs_))]
		var target string
		kind := kinds % 4
		if kind == 3 && len(p.dirs_) < 2 {
			kind = 2
		}
		switch kind {
		case 0:
			target = up(d) + p.files_[p.rng.IntN(len(p.files_))]
		case 1:
			target = "/nonexistent/efsync/" + p.name("abs")
		case 2:
			target = p.name("dangling")
		case 3:
			target = up(d) + p.dirs_[1+p.rng.IntN(len(p.dirs_)-1)]
		}
		kinds++
		p.add(Entry{Path: path.Join(d, p.name("l")), Type: Symlink, Target: path.Clean(target)})
	}
	for i := 0; i < o.HardLinks && len(p.files_) > 1; i++ {
		orig := p.files_[p.rng.IntN(len(p.files_))]
		if p.isLink(orig) {
			continue
		}
		d := path.Dir(orig)
		if i == 0 { // far away: in another top-level directory
			d = "hardlinks"
			p.dir(d, 0o755)
		}
		for k := 0; k < 1+i%2; k++ {
			p.add(Entry{Path: path.Join(d, p.name("h")), Type: File, LinkOf: orig})
		}
	}
}

func (p *planner) isLink(rel string) bool {
	for _, e := range p.t.Entries {
		if e.LinkOf == rel {
			return true
		}
	}
	return false
}

// special adds the entries of the boolean shapes.
func (p *planner) special() {
	o := p.o
	if o.Specials {
		p.dir("special", 0o755)
		p.add(Entry{Path: "special/fifo", Type: Fifo, Mode: 0o644})
		p.add(Entry{Path: "special/socket", Type: Socket, Mode: 0o755})
		p.add(Entry{Path: "special/null", Type: CharDev, Mode: 0o666, Rdev: unix.Mkdev(1, 3)})
		p.add(Entry{Path: "special/loop", Type: BlockDev, Mode: 0o660, Rdev: unix.Mkdev(7, 200)})
	}
	if o.HardNames {
		p.dir("names", 0o755)
		p.dir("names/dir with space", 0o755)
		for _, n := range []string{"with space.txt", "new\nline.txt", "bad\xff\xfe.bin", "-dash.txt",
			strings.Repeat("n", 251) + ".txt", "dir with space/inner file"} {
			p.file("names/"+n, 10, 0o644)
		}
	}
	if o.Xattrs {
		p.dir("xattr", 0o755).Xattrs = map[string]string{"user.dir": "on a directory"}
		p.file("xattr/user.txt", 100, 0o644).Xattrs = map[string]string{"user.a": "1", "user.bin": "\x00\xff\x01"}
		p.file("xattr/trusted.txt", 100, 0o644).Xattrs = map[string]string{"trusted.efsync": "root only"}
		p.file("xattr/acl.txt", 100, 0o640).Xattrs = map[string]string{
			"system.posix_acl_access": ACL("user::rw-", "user:1000:r--", "group::r--", "mask::r--", "other::---")}
		p.dir("xattr/acl-dir", 0o750).Xattrs = map[string]string{
			"system.posix_acl_access":  ACL("user::rwx", "group::r-x", "group:1000:r-x", "mask::r-x", "other::---"),
			"system.posix_acl_default": ACL("user::rwx", "group::r-x", "other::---")}
	}
	if o.Owners {
		p.dir("owners", 0o755)
		for i := 0; i < 3; i++ {
			e := p.file(path.Join("owners", p.name("o")), 10, 0o644)
			e.UID, e.GID = 1000+i, 2000+i
		}
		d := p.dir("owners/sub", 0o755)
		d.UID, d.GID = 1001, 1001
		l := p.add(Entry{Path: "owners/link", Type: Symlink, Target: "sub"})
		l.UID, l.GID = 1002, 1002
	}
	if o.Modes {
		p.dir("modes", 0o755)
		p.file("modes/setuid", 10, 0o4755)
		p.file("modes/setgid", 10, 0o2755)
		p.dir("modes/sticky", 0o1777)
		p.dir("modes/readonly", 0o555)
		p.file("modes/readonly/inside", 10, 0o444)
	}
}
