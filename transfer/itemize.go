package transfer

import (
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// item is the change an itemized line describes, in rsync -i's terms:
// YXcstpoguax, Y the update, X the type, then which attributes change.
type item string

const (
	itemNew  item = "+++++++++"
	itemLink item = "h"
)

// itemFor returns the flags for a rewritten entry: all new, or the
// attributes in which old differs from e.
func itemFor(o kpi.Outcome, e *partition.Entry, old *unix.Stat_t, exists bool) item {
	if !exists || old.Mode&unix.S_IFMT != e.Mode&unix.S_IFMT {
		return itemNew
	}
	f := []byte(".........")
	if old.Size != e.Size {
		f[1] = 's'
	}
	if old.Mtim.Nano() != e.Mtime {
		f[2] = 't'
	}
	if old.Mode&0o7777 != e.Mode&0o7777 {
		f[3] = 'p'
	}
	if old.Uid != e.UID {
		f[4] = 'o'
	}
	if old.Gid != e.GID {
		f[5] = 'g'
	}
	return item(f)
}

// itemMeta returns the flags for a metadata-only change.
func itemMeta(d metaDiff) item {
	f := []byte(".........")
	set := func(i int, on bool, c byte) {
		if on {
			f[i] = c
		}
	}
	set(2, d.mtime, 't')
	set(3, d.mode, 'p')
	set(4, d.owner, 'o')
	set(5, d.owner, 'g')
	set(8, d.xattrs, 'x')
	return "." + item(f)
}

// itemize sends one line for rel to Options.Itemize: like rsync -i, ">f"
// for a file written, "cL"/"cd"/"cD"/"cS" for other entries made, "hf"
// for a hard link, ".f" for metadata only, "*deleting" for a deletion.
func (c *Copier) itemize(it item, e *partition.Entry, rel string) {
	if c.opt.Itemize == nil {
		return
	}
	x := typeLetter(e.Mode)
	var line string
	switch {
	case it == itemLink:
		line = "h" + x + "+++++++++"
	case it[0] == '.' && len(it) == 10:
		line = "." + x + string(it[1:])
	case x == "f":
		line = ">f" + string(it)
	default:
		line = "c" + x + string(it)
	}
	if x == "d" {
		rel += "/"
	}
	c.opt.Itemize(line + " " + rel)
}

func typeLetter(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "f"
	case unix.S_IFDIR:
		return "d"
	case unix.S_IFLNK:
		return "L"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "D"
	}
	return "S"
}
