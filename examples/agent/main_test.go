package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// agent runs the command with args and returns its exit code and output.
func agent(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(&env{ctx: context.Background(), stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", p, d)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		golden     string
		toStdout   bool
		wantStderr string
	}{
		{"no command", nil, 1, "usage.golden", false, ""},
		{"help", []string{"-h"}, 0, "usage.golden", true, ""},
		{"unknown", []string{"copy"}, 1, "", false, "agent: unknown command \"copy\" (agent -h lists them)\n"},
		{"partition help", []string{"partition", "-h"}, 0, "partition_usage.golden", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := agent(tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			got, other := stderr, stdout
			if tt.toStdout {
				got, other = stdout, stderr
			}
			if tt.golden != "" {
				golden(t, tt.golden, got)
			} else if got != tt.wantStderr {
				t.Errorf("stderr %q, want %q", got, tt.wantStderr)
			}
			if other != "" {
				t.Errorf("unexpected output %q", other)
			}
		})
	}
}
