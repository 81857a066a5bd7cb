package transfer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"golang.org/x/sys/unix"
)

func TestAtimeWhenAsked(t *testing.T) {
	src := testtree.TempDir(t)
	old := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.UTC).UnixNano()
	for _, name := range []string{"a", "b"} {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		ts := []unix.Timespec{unix.NsecToTimespec(old), unix.NsecToTimespec(old + 1)}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, 0); err != nil {
			t.Fatal(err)
		}
	}
	atimes := func(dir string) map[string]int64 {
		m := map[string]int64{}
		for _, name := range []string{"a", "b"} {
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(dir, name), &st); err != nil {
				t.Fatal(err)
			}
			m[name] = st.Atim.Nano()
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		atime bool
	}{{"kept", true}, {"left alone", false}} {
		t.Run(tt.name, func(t *testing.T) {
			dst := testtree.TempDir(t)
			if _, failed, err := syncTrees(t, src, dst, Options{Atime: tt.atime}); err != nil || len(failed) > 0 {
				t.Fatalf("sync: %v, failed %q", err, failed)
			}
			for name, at := range atimes(dst) {
				if (at == old) != tt.atime {
					t.Errorf("%s: atime %v, source's %v, Atime=%v", name, time.Unix(0, at), time.Unix(0, old), tt.atime)
				}
			}
		})
	}
}
