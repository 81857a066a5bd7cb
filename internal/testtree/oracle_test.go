package testtree

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/efsync/efsync/internal/testenv"
)

// These tests hold the comparator to known tools: an exact copy must show no
// differences, and a lossy one exactly the losses its tool is known for.

func copyWith(t *testing.T, o Options, name string, args ...string) (src, dst string) {
	t.Helper()
	bin := testenv.Tool(t, name)
	src, dst = TempDir(t), TempDir(t)
	if _, err := Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	args = append(args, src+"/", dst+"/")
	if name == "cp" {
		args[len(args)-2] = src + "/."
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return src, dst
}

func fieldsOf(t *testing.T, src, dst string) map[string][]string {
	t.Helper()
	diffs, err := Compare(context.Background(), src, dst, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byField := map[string][]string{}
	for _, d := range diffs {
		f := d.Field
		if strings.HasPrefix(f, "xattr ") {
			f = "xattr"
		}
		byField[f] = append(byField[f], d.Path)
	}
	return byField
}

// small is Small without the 4 GiB file, which lossy copies would fill.
func small(seed int64) Options {
	o := Small(seed)
	o.HugeSparse = false
	return o
}

func TestOracleRsyncExact(t *testing.T) {
	src, dst := copyWith(t, Small(11), "rsync", "-aHAXS", "--numeric-ids")
	diffs, err := Compare(context.Background(), src, dst, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
}

func TestOracleLossyCopies(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args []string
		// want: each field must be reported; allow: may be reported too.
		want, allow []string
	}{
		{"rsync -a drops hard links, xattrs, ACLs and holes", "rsync", []string{"-a"},
			[]string{"links", "xattr", "alloc"}, nil},
		{"cp -r drops times, owners, special modes, links, xattrs", "cp", []string{"-r"},
			[]string{"mtime", "links", "xattr", "mode"}, []string{"uid", "gid", "alloc"}},
		{"a copy that fills holes", "cp", []string{"-a", "--sparse=never"},
			[]string{"alloc"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := copyWith(t, small(12), tt.tool, tt.args...)
			got := fieldsOf(t, src, dst)
			for _, f := range tt.want {
				if len(got[f]) == 0 {
					t.Errorf("no %q difference reported", f)
				}
			}
			for f, paths := range got {
				if !strings.Contains(" "+strings.Join(append(tt.want, tt.allow...), " ")+" ", " "+f+" ") {
					t.Errorf("unexpected %q differences at %q", f, paths)
				}
			}
			if os.Geteuid() == 0 && tt.tool == "cp" && tt.args[0] == "-r" && len(got["uid"]) == 0 {
				t.Error("cp -r as root kept other owners")
			}
			t.Logf("fields: %v", keys(got))
		})
	}
}

func keys(m map[string][]string) map[string]int {
	k := map[string]int{}
	for f, p := range m {
		k[f] = len(p)
	}
	return k
}
