package kpi_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/efsync/efsync/kpi"
)

func ExampleCounters() {
	c := kpi.New(kpi.Options{RunID: "example", Source: "/src", Destination: "/dst"})

	stop := c.StartPhase("crawl")
	c.Scanned(kpi.TypeDir, 0)
	c.Scanned(kpi.TypeFile, 5)
	c.Scanned(kpi.TypeFile, 3)
	stop()

	stop = c.StartPhase("copy")
	f := c.StartFile("hello.txt", 5)
	_, err := io.Copy(io.Discard, f.Reader(strings.NewReader("hello")))
	f.Done(kpi.Created, err)
	c.StartFile("locked.txt", 3).Done(kpi.Created,
		&os.PathError{Op: "open", Path: "locked.txt", Err: syscall.EACCES})
	stop()

	c.Finish(kpi.StatusPartial)
	r := c.Report()
	fmt.Println("files:", r.Scanned.Total(), "transferred:", r.Files.Transferred, "literal bytes:", r.Bytes.Literal)
	fmt.Println("errors:", r.Errors.Total, r.Errors.First[0].Class, r.Errors.First[0].Message)
	fmt.Println("status:", r.Status, "exit", r.Status.ExitCode())
	// Output:
	// files: 3 transferred: 1 literal bytes: 5
	// errors: 1 permission open locked.txt: permission denied
	// status: partial exit 2
}

func ExampleClassify() {
	err := fmt.Errorf("copy a: %w", &os.PathError{Op: "write", Path: "a", Err: syscall.ENOSPC})
	fmt.Println(kpi.Classify(err))
	// Output: nospace
}
