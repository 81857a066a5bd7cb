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

func ExampleBackup() {
	base, _ := os.MkdirTemp("", "efsync-example")
	defer os.RemoveAll(base)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello\n"), 0o644)

	// Three nightly backups that keep the newest two snapshots.
	var last *efsync.Record
	for range 3 {
		rec, err := efsync.Backup(context.Background(), src, repo, efsync.BackupOptions{Keep: efsync.Retention{Last: 2}})
		if err != nil {
			fmt.Println(err)
			return
		}
		last = rec
	}
	snaps, _ := os.ReadDir(filepath.Join(repo, efsync.DefaultLabel))
	copied, _ := os.ReadFile(filepath.Join(last.Snapshot, "hello.txt"))
	fmt.Printf("%s, %d snapshots, linked from the one before: %d file: %s", last.Status, len(snaps), last.Report.Files.HardLinked, copied)
	// Output: success, 2 snapshots, linked from the one before: 1 file: hello
}

func ExampleRestore() {
	base, _ := os.MkdirTemp("", "efsync-example")
	defer os.RemoveAll(base)
	src, repo := filepath.Join(base, "src"), filepath.Join(base, "repo")
	os.MkdirAll(filepath.Join(src, "docs"), 0o755)
	os.WriteFile(filepath.Join(src, "docs", "hello.txt"), []byte("hello\n"), 0o644)
	rec, err := efsync.Backup(context.Background(), src, repo, efsync.BackupOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// One file, restored to a new name: the default never overwrites.
	target := filepath.Join(base, "hello-restored.txt")
	if _, err := efsync.Restore(context.Background(), repo, rec.ID, "docs/hello.txt", target, efsync.RestoreOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	restored, _ := os.ReadFile(target)
	_, err = efsync.Restore(context.Background(), repo, rec.ID, "docs/hello.txt", target, efsync.RestoreOptions{})
	fmt.Printf("%sagain: %v\n", restored, err != nil)
	// Output: hello
	// again: true
}
