package aws

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// TestCatalogLead: of agents calling Lead at once for one job, exactly
// one leads and all agree on it; the leader leads again after a restart
// and after its own Put; an ended job and an unknown one are errors.
func TestCatalogLead(t *testing.T) {
	e := newEnv(t, true)
	cat := e.b.Catalog.(*Catalog)
	id := efsync.NewBackupID(e.now)
	rec := efsync.Record{ID: id, Label: "daily", Source: "/mnt/src", Repo: "/mnt/dst", Start: e.now}
	if err := cat.Put(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	const agents = 8
	leaders := make([]string, agents)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			var err error
			if leaders[i], err = cat.Lead(t.Context(), id, fmt.Sprintf("i-%d", i)); err != nil {
				t.Errorf("agent %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	won := 0
	for i, l := range leaders {
		if l != leaders[0] {
			t.Errorf("agent %d sees leader %q, agent 0 %q", i, l, leaders[0])
		}
		if l == fmt.Sprintf("i-%d", i) {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d agents lead, want 1: %q", won, leaders)
	}
	leader := leaders[0]
	rec.Host = leader
	if err := cat.Put(t.Context(), rec); err != nil { // the leader claims the job as before
		t.Fatal(err)
	}
	for _, who := range []string{leader, "i-late"} {
		if got, err := cat.Lead(t.Context(), id, who); err != nil || got != leader {
			t.Errorf("Lead by %s after the leader's Put: %q, %v; want %q", who, got, err, leader)
		}
	}
	rec.Status = kpi.StatusSuccess
	if err := cat.Put(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if got, err := cat.Lead(t.Context(), id, leader); !errors.Is(err, ErrEnded) {
		t.Errorf("Lead of an ended job: %q, %v; want ErrEnded", got, err)
	}
	if got, err := cat.Lead(t.Context(), efsync.NewBackupID(e.now), "i-1"); !errors.Is(err, efsync.ErrNotFound) {
		t.Errorf("Lead of an unknown job: %q, %v; want ErrNotFound", got, err)
	}
}
