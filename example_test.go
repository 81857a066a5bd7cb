package efsync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/efsync/efsync"
)

func ExampleSync() {
	base, _ := os.MkdirTemp("", "efsync-example")
	defer os.RemoveAll(base)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	os.MkdirAll(filepath.Join(src, "docs"), 0o755)
	os.WriteFile(filepath.Join(src, "docs", "hello.txt"), []byte("hello\n"), 0o644)

	report, err := efsync.Sync(context.Background(), src, dst, efsync.Delete())
	if err != nil {
		fmt.Println(err)
		return
	}
	copied, _ := os.ReadFile(filepath.Join(dst, "docs", "hello.txt"))
	fmt.Printf("%s: %d created, exit code %d: %s", report.Status, report.Files.Created, report.Status.ExitCode(), copied)
	// Output: success: 2 created, exit code 0: hello
}
