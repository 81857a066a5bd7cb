package transfer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/efsync/efsync/internal/testtree"
)

// TestBeforeDeleteSeesEveryEntryAndCanRefuse checks the delete pass's plan:
// BeforeDelete gets the count of every entry to remove, a directory's
// contents included, and refusing it leaves the destination as it was.
func TestBeforeDeleteSeesEveryEntryAndCanRefuse(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	for _, d := range []string{src, dst, dst + "/gone/deep"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{src + "/kept", dst + "/kept", dst + "/extra", dst + "/gone/a", dst + "/gone/deep/b"} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := syncTrees(t, src, dst, Options{}); err != nil { // align kept's metadata
		t.Fatal(err)
	}
	before, err := testtree.Scan(t.Context(), dst, true)
	if err != nil {
		t.Fatal(err)
	}
	refuse := errors.New("too many")
	var seen int64 = -1
	_, _, err = syncTrees(t, src, dst, Options{Delete: true, BeforeDelete: func(n int64) error { seen = n; return refuse }})
	if !errors.Is(err, refuse) {
		t.Fatalf("Finish = %v, want the BeforeDelete error", err)
	}
	if seen != 5 { // extra, gone, gone/a, gone/deep, gone/deep/b
		t.Errorf("BeforeDelete got %d, want 5", seen)
	}
	after, err := testtree.Scan(t.Context(), dst, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range testtree.CompareSnapshots(before, after, testtree.CompareOptions{}) {
		t.Errorf("a refused delete pass changed the destination: %s", d)
	}
	if _, _, err := syncTrees(t, src, dst, Options{Delete: true, BeforeDelete: func(n int64) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	exact(t, src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
}
