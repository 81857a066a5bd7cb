package efsync_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

func ExampleFileCatalog() {
	repo, _ := os.MkdirTemp("", "efsync-catalog")
	defer os.RemoveAll(repo)
	ctx := context.Background()

	// Records are written at the start of a backup and again at its end.
	var cat efsync.Catalog = efsync.NewFileCatalog(repo)
	start := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	rec := efsync.Record{ID: "20240301T020000Z-0a1b2c", Label: "daily", Source: "/mnt/efs", Start: start}
	cat.Put(ctx, rec)
	rec.Status, rec.Stop, rec.Files = kpi.StatusSuccess, start.Add(42*time.Minute), 1200
	cat.Put(ctx, rec)

	recs, err := cat.List(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Printf("%s %s %s %d files in %s\n", r.ID, r.Label, r.Status, r.Files, r.Stop.Sub(r.Start))
	}
	// Output: 20240301T020000Z-0a1b2c daily success 1200 files in 42m0s
}
