package latencyfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// BinEnv names the environment variable that points at a prebuilt
// cmd/latencyfs, for machines without a Go toolchain or source tree.
const BinEnv = "EFSYNC_LATENCYFS_BIN"

// findBinary returns the cmd/latencyfs program to run: explicit, else $BinEnv,
// else one built from source.
func findBinary(ctx context.Context, explicit string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv(BinEnv)
	}
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("latencyfs binary: %w", err)
		}
		return explicit, nil
	}
	return build(ctx)
}

// build builds cmd/latencyfs with go build and returns a path named after
// the binary's content, in the per-user cache directory.
//
// go build skips the link when its -o target is up to date, so repeated
// calls cost ~0.2 s; but it rewrites that file in place when the source
// changed, which a concurrent test process could be exec'ing. So the
// build runs under a file lock, and callers run a hard link named by the
// content hash, which never changes once created.
func build(ctx context.Context) (string, error) {
	goBin, err := goTool()
	if err != nil {
		return "", err
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	pkg := reflect.TypeFor[Options]().PkgPath() + "/cmd/latencyfs"
	out := filepath.Join(dir, "latencyfs.build")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	cmd.Dir = sourceDir()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (or set %s): %w\n%s", pkg, BinEnv, err, msg)
	}
	sum, err := hashFile(out)
	if err != nil {
		return "", err
	}
	keyed := filepath.Join(dir, "latencyfs-"+sum)
	if err := os.Link(out, keyed); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("latencyfs binary: %w", err)
	}
	now := time.Now()
	os.Chtimes(keyed, now, now) // mark it used, for prune in other processes; best effort
	prune(dir, keyed)
	return keyed, nil
}

// goTool finds the go command: in PATH, else in $GOROOT/bin.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("latencyfs: no go command in PATH or $GOROOT/bin; set %s", BinEnv)
}

// cacheDir returns (and creates) the per-user directory for built binaries.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("cache-%d", os.Getuid()))
	}
	dir := filepath.Join(base, "efsync", "latencyfs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// sourceDir returns this package's source directory, so that go build
// finds the module whatever the working directory; "" (the working
// directory) when the source is not there, e.g. built with -trimpath.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// lockFile takes an exclusive flock on name; unlock releases it.
func lockFile(name string) (unlock func(), err error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: name, Err: err}
	}
	return func() { f.Close() }, nil // closing releases the lock
}

func hashFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// prune removes binaries of other versions unused for a day, so that
// editing latencyfs does not fill the cache. Errors don't matter: the
// next build tries again.
func prune(dir, keep string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := filepath.Join(dir, e.Name())
		if !strings.HasPrefix(e.Name(), "latencyfs-") || name == keep {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			os.Remove(name)
		}
	}
}

// Binary returns the cmd/latencyfs program (EFSYNC_LATENCYFS_BIN, else
// built from source), for a test that mounts it itself: in a mount
// namespace of its own, say, as another host would.
func Binary(ctx context.Context) (string, error) { return findBinary(ctx, "") }
