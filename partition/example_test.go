package partition_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/partition"
)

// The counters of a run are a Reporter.
var _ partition.Reporter = (*kpi.Counters)(nil)

func ExampleWalker() {
	root, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	for _, p := range []string{"docs/a.txt", "docs/b.txt", "src/main.go"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte("hello"), 0o644)
	}

	w, err := partition.NewWalker(root, partition.Options{MaxFiles: 2})
	if err != nil {
		panic(err)
	}
	out := make(chan partition.Chunk)
	errc := make(chan error, 1)
	go func() { errc <- w.Run(context.Background(), out) }()

	var paths []string
	var chunks, files int
	var bytes int64
	for c := range out { // Run closes out when it is done
		chunks++
		for _, e := range c.Entries {
			paths = append(paths, e.Path)
		}
		files, bytes = files+c.Files, bytes+c.Bytes
	}
	if err := <-errc; err != nil {
		panic(err)
	}
	slices.Sort(paths) // walkers run in parallel: the order varies
	fmt.Println(chunks, "chunks,", files, "entries,", bytes, "bytes:", paths)
	// Output:
	// 3 chunks, 6 entries, 15 bytes: [. docs docs/a.txt docs/b.txt src src/main.go]
}
