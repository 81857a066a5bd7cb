package efsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// UsageError is bad input, found before anything is touched: a missing
// source, a destination inside the source. Agents exit 1 on it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ErrUnsafeSource is returned when a guard refuses the source: not a mount
// point, empty, or without its sentinel file. Mirroring it could wipe the
// destination, so the run fails and touches nothing.
var ErrUnsafeSource = errors.New("refusing to mirror this source")

func usage(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// checkPaths checks src and dst before anything is touched, and returns
// them cleaned. Unless readOnly, dst (or, if it is missing, its parent)
// must be writable.
func checkPaths(src, dst string, readOnly bool) (string, string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return "", "", &UsageError{err}
	}
	if !st.IsDir() {
		return "", "", usage("source %s: not a directory", src)
	}
	if dt, err := os.Stat(dst); err == nil && !dt.IsDir() {
		return "", "", usage("destination %s: not a directory", dst)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", &UsageError{err}
	} else if err != nil {
		if _, err := os.Stat(filepath.Dir(filepath.Clean(dst))); err != nil {
			return "", "", usage("destination %s: parent directory: %w", dst, err)
		}
	}
	rs, err := resolve(src)
	if err != nil {
		return "", "", &UsageError{err}
	}
	rd, err := resolve(dst)
	if err != nil {
		return "", "", &UsageError{err}
	}
	if rs == rd {
		return "", "", usage("source and destination are the same directory: %s", rs)
	}
	if strings.HasPrefix(rd, rs+"/") || rs == "/" {
		return "", "", usage("destination %s is inside the source %s", dst, src)
	}
	if strings.HasPrefix(rs, rd+"/") {
		return "", "", usage("source %s is inside the destination %s", src, dst)
	}
	if !readOnly {
		target := dst
		if _, err := os.Lstat(dst); err != nil {
			target = filepath.Dir(filepath.Clean(dst))
		}
		if err := unix.Access(target, unix.W_OK|unix.X_OK); err != nil {
			return "", "", usage("destination %s: not writable: %w", target, err)
		}
	}
	return filepath.Clean(src), filepath.Clean(dst), nil
}

// resolve returns p absolute with symlinks resolved, for a p that may not
// exist yet (its parent must).
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	return filepath.Join(dir, filepath.Base(abs)), err
}

// guard applies the source guards that o asks for.
func guard(src string, o *Options) error {
	if o.RequireMount {
		var st, up unix.Stat_t
		if err := unix.Stat(src, &st); err != nil {
			return fmt.Errorf("%w %s: %w", ErrUnsafeSource, src, err)
		}
		if err := unix.Stat(filepath.Join(src, ".."), &up); err != nil {
			return fmt.Errorf("%w %s: %w", ErrUnsafeSource, src, err)
		}
		if st.Dev == up.Dev && st.Ino != up.Ino {
			return fmt.Errorf("%w %s: not a mount point", ErrUnsafeSource, src)
		}
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrUnsafeSource, src, err)
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if len(names) == 0 {
			return fmt.Errorf("%w %s: empty (%v)", ErrUnsafeSource, src, err)
		}
	}
	if o.RequireFile != "" {
		if _, err := os.Lstat(filepath.Join(src, o.RequireFile)); err != nil {
			return fmt.Errorf("%w %s: sentinel file: %w", ErrUnsafeSource, src, err)
		}
	}
	return nil
}

// ErrTooManyDeletes is returned when the delete pass would remove more
// than Options.MaxDelete or Options.MaxDeletePercent allow: it removed
// nothing, and the run failed.
var ErrTooManyDeletes = errors.New("delete pass refused")

// deleteLimit decides whether the delete pass may remove n entries, when
// the source holds scanned: the destination then holds about scanned + n,
// of which n may be at most pct percent, and at most max (0: no limit).
func deleteLimit(n, scanned, max int64, pct float64) error {
	if max > 0 && n > max {
		return fmt.Errorf("%w: it would remove %d entries, more than the limit of %d; nothing was deleted", ErrTooManyDeletes, n, max)
	}
	if pct > 0 && n > 0 && float64(n)*100 > pct*float64(scanned+n) {
		return fmt.Errorf("%w: it would remove %d of %d entries (%.1f%%), more than the limit of %g%%; nothing was deleted",
			ErrTooManyDeletes, n, scanned+n, float64(n)*100/float64(scanned+n), pct)
	}
	return nil
}
