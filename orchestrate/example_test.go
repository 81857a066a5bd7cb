package orchestrate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
)

// The lifecycle over in-memory backends: a start, its worker's report,
// then a stop that comes late and does nothing.
func Example() {
	ctx := context.Background()
	events := make(chan orchestrate.Event, 8)
	cat := orchestratetest.NewMemCatalog()
	clock := orchestratetest.NewFakeClock(time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC))
	fleet := orchestratetest.NewFakeFleet(cat, events)
	o, err := orchestrate.New(
		orchestrate.Plan{Label: "daily", Source: "/mnt/efs", Repo: "/mnt/backup", Window: 3 * time.Hour},
		orchestrate.Backends{Fleet: fleet, Commander: fleet, Catalog: cat,
			Timer: orchestratetest.NewFakeTimer(clock, events)},
		orchestrate.Options{Now: clock.Now})
	if err != nil {
		panic(err)
	}
	id, _ := o.Handle(ctx, orchestrate.ScheduleStart{At: clock.Now()})
	o.Handle(ctx, <-events) // the worker's AgentReport
	o.Handle(ctx, orchestrate.StopRequested{ID: id, By: "operator"})
	rec, _ := cat.Get(ctx, id)
	fmt.Println(rec.Status)
	// Output: success
}
