package efsync_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/benchkit"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"golang.org/x/sys/unix"
)

// BenchmarkManifest and BenchmarkVerify hold the manifest issue's
// targets, on local disk with EFSYNC_BENCH_FILES files (default 100,000,
// testtree.Large as in BenchmarkSync): a no-change backup that builds its
// manifest reads no file data and takes less than 1.2× the time of one
// without (manifest-ratio), and a full verify against
// `rsync -c -n -aHAX` on the same trees (x-vs-rsync).
//
//	go test -run '^$' -bench 'Manifest|Verify' -benchtime 3x -timeout 1h .
//
// Caches are as in BenchmarkSync and BENCHMARKS.md: warm, with a sync
// before each run (benchkit.Race). EFSYNC_BENCH_COLD=1 also drops the
// page cache before each run of BenchmarkVerify (it drops the whole
// machine's: not on a machine others measure on).

// staleAtime is the access time setup gives every file a no-change backup
// must not read: older than its mtime and than a day, so that relatime
// moves it on any read, from the page cache or not.
var staleAtime = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkManifest races a backup of the unchanged source with its
// manifest (efsync) against the same backup with NoManifest (nomanifest),
// each a new snapshot of hard links to the first, made untimed by setup.
// After each run, untimed, the new snapshot is removed and the
// repository's metadata (catalog, manifests, groups) put back as setup
// left it.
//
// That no file data was read is checked at the file system: setup sets
// the access time of every regular file of the source and of the first
// snapshot (which the new snapshots share inodes with) to staleAtime, and
// after each run none may have moved. The root file system is mounted
// relatime, where any read(2), sendfile or mmap of a file moves it (setup
// checks that on one file); only an open with O_NOATIME would not, and
// the backup's path opens none (transfer opens a clone's basis so, on
// file systems that clone; ext4 does not). /proc/self/io's rchar is no
// such check: it counts the bytes read from every file, the
// repository's own (the parent's manifest, sorter spills, the catalog)
// included. Its median is reported as MB-read-X, to show what the
// manifest costs in reads. TestBackupManifestReadsNoData proves the same
// property behind latencyfs, by failing every read of file data.
func BenchmarkManifest(b *testing.B) {
	ctx := b.Context()
	rb := newLocalRepo(b)
	if err := setAtimes(rb.disk+"/src", rb.snap(rb.first)); err != nil {
		b.Fatal(err)
	}
	checkAtimeMoves(b, rb.disk+"/src")
	r := benchkit.NewRace(b)
	reads := map[string][]float64{}
	last := map[string]*efsync.Record{}
	for b.Loop() {
		for _, name := range []string{"efsync", "nomanifest"} { // interleaved
			var rec *efsync.Record
			before := rchar(b)
			r.Time(name, func() error {
				var err error
				rec, err = efsync.Backup(ctx, rb.disk+"/src", rb.repo(), efsync.BackupOptions{NoManifest: name == "nomanifest"})
				if err == nil && (rec.Status != kpi.StatusSuccess || rec.Parent != rb.first) {
					err = fmt.Errorf("status %s, parent %q: want success from %s", rec.Status, rec.Parent, rb.first)
				}
				return err
			})
			reads[name] = append(reads[name], float64(rchar(b)-before)/1e6)
			rb.checkRun(b, name, rec)
			last[name] = rec
			if err := errors.Join(removeAll(rb.snap(rec.ID)), rb.resetMeta(ctx)); err != nil {
				b.Fatal(err)
			}
		}
	}
	r.Report("efsync")
	b.ReportMetric(float64(r.Median("efsync"))/float64(r.Median("nomanifest")), "manifest-ratio")
	for name, v := range reads {
		b.ReportMetric(medianFloat(v), "MB-read-"+name)
	}
	for _, name := range []string{"efsync", "nomanifest"} { // where the time went
		for _, p := range last[name].Phases {
			b.Logf("%s's last run, phase %s: %.3fs", name, p.Name, p.Seconds)
		}
	}
}

// newLocalRepo builds the source in a temporary directory on local disk
// and backs it up once, with a manifest, then keeps a copy of the
// repository's metadata to put back after each run. It is a repoBench
// without a mount: view is the backing directory.
func newLocalRepo(b *testing.B) *repoBench {
	b.Helper()
	disk := testtree.TempDir(b)
	buildTree(b, disk+"/src", testtree.Large(1, benchFiles(b, 100_000)))
	rb := &repoBench{disk: disk, view: disk, meta: disk + "/meta"}
	start := time.Now()
	rec, err := efsync.Backup(b.Context(), disk+"/src", rb.repo(), efsync.BackupOptions{})
	if err != nil || rec.Status != kpi.StatusSuccess {
		b.Fatalf("first backup: %v (record %+v)", err, rec)
	}
	b.Logf("first backup (a full copy, hashed as copied) of %d entries: %s", rec.Files, time.Since(start).Round(time.Millisecond))
	rb.first = rec.ID
	if err := benchkit.Reset(b.Context(), rb.repo(".efsync"), rb.meta); err != nil {
		b.Fatal(err)
	}
	return rb
}

// checkRun fails b unless the backup rec, run as name, made a snapshot of
// links to the first one, a manifest exactly when it should, and read no
// file's data.
func (rb *repoBench) checkRun(b *testing.B, name string, rec *efsync.Record) {
	b.Helper()
	rb.mustBeLinked(b, name, rb.snap(rec.ID))
	st, err := os.Stat(rb.repo(".efsync", "manifests", rec.ID))
	switch want := name != "nomanifest"; {
	case want && (err != nil || st.Size() == 0):
		b.Fatalf("%s made no manifest: %v", name, err)
	case !want && !errors.Is(err, fs.ErrNotExist):
		b.Fatalf("%s made a manifest (%v)", name, err)
	}
	n, some, err := readFiles(rb.disk+"/src", rb.snap(rb.first))
	if err != nil {
		b.Fatal(err)
	}
	if n > 0 {
		b.Fatalf("%s read the data of %d files, such as %q", name, n, some)
	}
}

// setAtimes sets the access time of every regular file under roots to
// staleAtime, leaving their mtimes.
func setAtimes(roots ...string) error {
	ts := []unix.Timespec{unix.NsecToTimespec(staleAtime.UnixNano()), {Nsec: unix.UTIME_OMIT}}
	return walkFiles(roots, func(p string, _ *syscall.Stat_t) error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// readFiles returns how many regular files under roots were read since
// setAtimes (their access time moved), and the first few of them.
func readFiles(roots ...string) (n int, some []string, err error) {
	err = walkFiles(roots, func(p string, st *syscall.Stat_t) error {
		if time.Unix(st.Atim.Unix()).Equal(staleAtime) {
			return nil
		}
		if n++; len(some) < 5 {
			some = append(some, p)
		}
		return nil
	})
	return n, some, err
}

// walkFiles calls f with every regular file under roots and its stat.
func walkFiles(roots []string, f func(p string, st *syscall.Stat_t) error) error {
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return f(p, info.Sys().(*syscall.Stat_t))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkAtimeMoves fails b unless reading a file of root (a cached one:
// setup just wrote it) moves its access time, then puts it back: the
// check readFiles makes holds on this mount.
func checkAtimeMoves(b *testing.B, root string) {
	b.Helper()
	var first string
	_ = walkFiles([]string{root}, func(p string, st *syscall.Stat_t) error {
		if first == "" && st.Size > 0 {
			first = p
		}
		return nil
	})
	if _, err := os.ReadFile(first); err != nil {
		b.Fatal(err)
	}
	n, _, err := readFiles(root)
	if err != nil || n != 1 {
		b.Fatalf("read %s, then found %d files read (%v): want 1; is %s mounted noatime?", first, n, err, root)
	}
	if err := setAtimes(first); err != nil {
		b.Fatal(err)
	}
}

// rchar returns this process's rchar from /proc/self/io: the bytes that
// its read system calls returned, from any file, page cache or not.
func rchar(b *testing.B) int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("/proc/self/io has no rchar: %v", s.Err())
	return 0
}

// BenchmarkVerify races, on a source and its first snapshot: efsync.Verify
// with Full (verify: the snapshot against its manifest, reading the
// snapshot only), efsync.VerifyTree of the source and the snapshot
// (verifytree: both trees read, the like-for-like job) and
// `rsync -c -n -aHAX --numeric-ids --delete -i SRC/ SNAPSHOT/` (rsync),
// interleaved. x-vs-rsync is rsync's median over verify's,
// verifytree-x-vs-rsync over verifytree's. Each run must find the trees
// equal: efsync's reports Success with no difference, rsync lists
// nothing.
func BenchmarkVerify(b *testing.B) {
	rsync := benchkit.Tools(b, "rsync")[0]
	ctx := b.Context()
	rb := newLocalRepo(b)
	src, snap := rb.disk+"/src", rb.snap(rb.first)
	cold := os.Getenv("EFSYNC_BENCH_COLD") == "1"
	contenders := []struct {
		name string
		f    func() (*efsync.VerifyReport, error)
	}{
		{"verify", func() (*efsync.VerifyReport, error) {
			return efsync.Verify(ctx, rb.repo(), rb.first, efsync.VerifyOptions{Full: true})
		}},
		{"verifytree", func() (*efsync.VerifyReport, error) {
			return efsync.VerifyTree(ctx, src, snap, efsync.VerifyOptions{})
		}},
		{"rsync", func() (*efsync.VerifyReport, error) {
			return nil, rsyncLists(ctx, rsync, "-c", "-n", "-aHAX", "--numeric-ids", "--delete", "-i", src+"/", snap+"/")
		}},
	}
	r := benchkit.NewRace(b)
	checked := map[string]int64{}
	for b.Loop() {
		for _, c := range contenders {
			if cold {
				dropCaches(b)
			}
			r.Time(c.name, func() error {
				rep, err := c.f()
				if err != nil || rep == nil {
					return err
				}
				checked[c.name] = rep.Checked
				if rep.Status != kpi.StatusSuccess || rep.Total != 0 || rep.Checked == 0 {
					return fmt.Errorf("status %s, %d of %d entries differ: %v", rep.Status, rep.Total, rep.Checked, rep.Differences)
				}
				return nil
			})
		}
	}
	r.Report("verify")
	b.ReportMetric(r.Median("verifytree").Seconds(), "s-verifytree")
	b.ReportMetric(float64(r.Median("rsync"))/float64(r.Median("verifytree")), "verifytree-x-vs-rsync")
	b.Logf("entries checked: %v; cold caches: %v", checked, cold)
}

// rsyncLists runs rsync with args, a dry run with -i, and returns an
// error if it fails or lists any difference.
func rsyncLists(ctx context.Context, rsync string, args ...string) error {
	var out bytes.Buffer
	c := exec.CommandContext(ctx, rsync, args...)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return fmt.Errorf("rsync %q: %w\n%s", args, err, out.Bytes())
	}
	if list := strings.TrimSpace(out.String()); list != "" {
		lines := strings.Split(list, "\n")
		return fmt.Errorf("rsync lists %d differences:\n%s", len(lines), strings.Join(lines[:min(len(lines), 20)], "\n"))
	}
	return nil
}

// dropCaches writes dirty pages back and drops the page cache, dentries
// and inodes: the whole machine's.
func dropCaches(b *testing.B) {
	b.Helper()
	unix.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		b.Fatalf("EFSYNC_BENCH_COLD: %v", err)
	}
}
