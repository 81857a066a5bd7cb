package main

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/efsync/efsync/internal/awstest"
)

// dynalite is the package's one DynamoDB server, or why there is none:
// the end-to-end test's.
var dynalite struct {
	d   *awstest.Dynalite
	err error
	n   atomic.Int64 // numbers the tables: a test run again (-count) makes a new one
}

func TestMain(m *testing.M) {
	dynalite.d, dynalite.err = awstest.StartDynalite(context.Background())
	code := m.Run()
	dynalite.d.Close()
	os.Exit(code)
}
