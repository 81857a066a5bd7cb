package transfer

import (
	"context"
	"errors"
	"fmt"
	"path"

	"golang.org/x/sys/unix"
)

// RemoveTemps removes the temporary files (IsTemp) that a killed run left
// in the directories dirs (slash paths relative to the destination root
// dst), except those whose path keep holds (the partial copies Partial
// recorded, kept to be resumed), and returns how many it removed. A
// directory that is gone, or is not a directory, is passed over: no
// symlink under dst is followed. A directory keeps its times.
func RemoveTemps(ctx context.Context, dst string, dirs []string, keep map[string]bool) (int, error) {
	root, err := unix.Open(dst, dirFlags&^unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open destination %s: %w", dst, err)
	}
	defer unix.Close(root)
	n := 0
	for _, rel := range dirs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if err := checkRel(rel); err != nil {
			return n, err
		}
		fd, err := openExisting(root, rel)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return n, wrapErr("open", rel, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		names, rerr := readNames(fd)
		err = errors.Join(err, rerr)
		removed := 0
		for _, name := range names {
			if !IsTemp(name) || keep[path.Join(rel, name)] {
				continue
			}
			if uerr := unix.Unlinkat(fd, name, 0); uerr == nil {
				removed++
			} else if !errors.Is(uerr, unix.ENOENT) {
				err = errors.Join(err, uerr)
			}
		}
		// Our litter going must not show in the tree: a cleanup after
		// a pass would otherwise leave the directory's mtime wrong.
		if removed > 0 && err == nil {
			err = futimens(fd, &[2]unix.Timespec{st.Atim, st.Mtim})
		}
		n += removed
		if fd != root {
			unix.Close(fd)
		}
		if err != nil {
			return n, wrapErr("clean", rel, err)
		}
	}
	return n, nil
}

// openExisting opens the directory rel under root, each component with
// O_NOFOLLOW, creating nothing. It returns root itself for ".".
func openExisting(root int, rel string) (int, error) {
	fd := root
	for _, name := range components(rel) {
		next, err := unix.Openat(fd, name, dirFlags, 0)
		if fd != root {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}
