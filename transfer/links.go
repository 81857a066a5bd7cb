package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// group makes the members of a source hard-link group (every link of one
// inode in the tree) one inode at the destination. The anchor is the first
// member, in path order, whose destination copy is up to date, kept from
// an earlier run; else the first member copied without error. The others are linked to it
// under a temporary name and renamed into place; when the anchor's inode
// can take no more links (EMLINK), the member is copied and becomes the
// anchor of those after it. Each member that fails is
// booked in res under its own path and the others go on; group returns
// only an error that stops the run.
func (w *worker) group(ctx context.Context, g []*partition.Entry, res *Result) error {
	// The crawl finds the members in any order; in path order, each run
	// picks the same anchor and makes the same links.
	slices.SortFunc(g, func(a, b *partition.Entry) int { return strings.Compare(a.Path, b.Path) })
	anchor, failed, err := w.anchor(ctx, g, res)
	if err != nil || anchor < 0 {
		return err
	}
	afd, opened := -1, false // -1 in a dry run, where the anchor may be absent
	var ast unix.Stat_t
	defer func() {
		if afd >= 0 {
			unix.Close(afd)
		}
	}()
	linkTo := func(m *partition.Entry, r *fileReport) error {
		if !opened { // here, so that do retries it
			fd, err := w.openAnchor(g[anchor], &ast)
			if err != nil {
				return err
			}
			afd, opened = fd, true
		}
		err := w.link(m, afd, &ast, r)
		if !errors.Is(err, unix.EMLINK) {
			return err
		}
		// The anchor's inode has all the links its file system allows
		// (177 on EFS): m gets a copy of its own (or keeps one that is up
		// to date), and the members after it are linked to that.
		if err := w.entry(ctx, m, r); err != nil {
			return err
		}
		fd, err := w.openAnchor(m, &ast)
		if err != nil {
			return err
		}
		unix.Close(afd)
		afd = fd
		return nil
	}
	for i, m := range g {
		if i == anchor || failed[i] {
			continue
		}
		err := w.do(ctx, m, func(r *fileReport) error { return linkTo(m, r) })
		if err != nil && !w.failed(res, m.Path, err) {
			return err
		}
	}
	return nil
}

// openAnchor opens the anchor a's destination copy as an O_PATH fd and
// stats it into st. In a dry run, where it may be absent, it returns -1.
func (w *worker) openAnchor(a *partition.Entry, st *unix.Stat_t) (int, error) {
	dir, name := split(a.Path)
	dfd, err := w.dst.open(dir)
	if errors.Is(err, errAbsent) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		if err = unix.Fstat(fd, st); err != nil {
			unix.Close(fd)
		}
	}
	switch {
	case err == nil:
		return fd, nil
	case w.c.opt.DryRun:
		return -1, nil
	}
	return -1, fmt.Errorf("open %s: %w", a.Path, err)
}

// anchor finds or makes the member every other one is linked to, booking
// its outcome, and returns its index, or -1 if every member failed. A
// member that fails is booked in res and in failed, and the next one is
// copied instead: the group still reaches the destination, and a later
// run links the failed ones to it.
func (w *worker) anchor(ctx context.Context, g []*partition.Entry, res *Result) (int, map[int]bool, error) {
	for _, m := range g {
		dir, name := split(m.Path)
		if w.c.opt.Delete {
			w.c.dirs.name(dir, name)
		}
	}
	order := make([]int, 0, len(g)) // an up-to-date member first
	for i, m := range g {
		dir, name := split(m.Path)
		dfd, err := w.dst.open(dir)
		if err != nil {
			break // absent in a dry run, or failing: copy the first
		}
		if st, ok, err := lstatAt(dfd, name); err == nil && ok && upToDate(m, &st, w.c.opt.MtimeWindow.Nanoseconds()) {
			order = append(order, i)
			break
		}
	}
	for i := range g {
		if len(order) == 0 || i != order[0] {
			order = append(order, i)
		}
	}
	failed := map[int]bool{}
	for _, i := range order {
		m := g[i]
		err := w.do(ctx, m, func(r *fileReport) error { return w.entry(ctx, m, r) })
		if err == nil {
			return i, failed, nil
		}
		if !w.failed(res, m.Path, err) {
			return -1, nil, err
		}
		failed[i] = true
	}
	return -1, failed, nil
}

// link makes m's destination name a link to the anchor's inode ast, open
// as the O_PATH fd afd.
func (w *worker) link(m *partition.Entry, afd int, ast *unix.Stat_t, r *fileReport) error {
	c := w.c
	dir, name := split(m.Path)
	dfd, err := w.dst.open(dir)
	if errors.Is(err, errAbsent) {
		r.o = kpi.HardLinked
		c.itemize(itemLink, m, m.Path)
		return nil
	}
	if err != nil {
		return err
	}
	st, exists, err := lstatAt(dfd, name)
	if err != nil {
		return err
	}
	if exists && afd >= 0 && st.Dev == ast.Dev && st.Ino == ast.Ino {
		return nil // already this inode
	}
	r.o = kpi.HardLinked
	c.itemize(itemLink, m, m.Path)
	if c.opt.DryRun {
		return nil
	}
	tmp := tempName()
	// linkat through /proc/self/fd needs no privilege, where AT_EMPTY_PATH
	// needs CAP_DAC_READ_SEARCH.
	if err := unix.Linkat(unix.AT_FDCWD, at{fd: afd}.proc(), dfd, tmp, unix.AT_SYMLINK_FOLLOW); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if err := w.replace(dfd, tmp, name, m.Path, &st, exists); err != nil {
		return err
	}
	// rename does nothing when both names are already links to one inode:
	// then the temporary name is still there.
	if _, left, _ := lstatAt(dfd, tmp); left {
		unix.Unlinkat(dfd, tmp, 0)
	}
	return nil
}
