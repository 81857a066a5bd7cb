package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// sharedNight: with EFSYNC_AGENTS=3 the start scales the group to 3; the
// three agents (as the template starts them, with --queue) elect one
// leader by the conditional write in DynamoDB, copy its partitions
// through SQS, each of them some, and end: the leader's record Success
// with itself as host, the snapshot exact, the workers' logs in the
// job's folder, the group scaled in.
func (w *e2e) sharedNight(t *testing.T) {
	vars := maps.Clone(w.vars)
	vars["EFSYNC_AGENTS"] = "3"
	h := w.h
	w.h = w.lambda(t, vars)
	defer func() { w.h = h }()
	// Each read of a file takes 100 ms, so that every agent gets some
	// of the partitions before the first agent has done them all, and
	// extends their visibility; new mtimes make the files read, not
	// linked to the last snapshot's.
	mtime := time.Now().Add(time.Hour)
	for d := range 3 {
		for f := range 4 {
			if err := os.Chtimes(filepath.Join(w.backing, "src", fmt.Sprintf("d%d", d), fmt.Sprintf("f%d", f)), mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.m.SetFaults([]latencyfs.Fault{{Op: "read", Path: "src/d*/*", Delay: 100 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	defer w.m.SetFaults(nil)
	scaled := len(w.desired())
	id := w.start(t)
	if got := w.desired()[scaled:]; !slices.Equal(got, []string{"3"}) {
		t.Fatalf("after the start, desired capacities %v, want [3]", got)
	}
	instances := []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3"}
	var waits []func() (int, string)
	for _, inst := range instances {
		_, wait := w.agentOn(t, w.instanceEnv(t, t.TempDir(), inst), "--queue", w.tasks, "-f", "1", "--job-poll", "200ms", "--heartbeat", "30ms")
		waits = append(waits, wait)
	}
	for i, wait := range waits {
		if code, out := wait(); code != 0 {
			t.Errorf("agent on %s: exit %d\n%s", instances[i], code, out)
		}
	}
	rec := w.record(t, id)
	if rec.Status != kpi.StatusSuccess || !slices.Contains(instances, rec.Host) || rec.Snapshot == "" {
		t.Fatalf("record: %q %q host %q snapshot %q: want success, by one of %v", rec.Status, rec.Reason, rec.Host, rec.Snapshot, instances)
	}
	if item := w.item(t, id); fmt.Sprint(item["Leader"]["S"]) != rec.Host {
		t.Errorf("the item's Leader %v, its host %s: want the elected agent", item["Leader"], rec.Host)
	}
	testtree.RequireExact(t, filepath.Join(w.backing, "src"), rec.Snapshot, testtree.CompareOptions{})
	_, text := w.logs(t, id)
	copied := map[string]int{}
	for line := range strings.Lines(text) {
		if strings.Contains(line, `"msg":"chunk copied"`) {
			for _, inst := range instances {
				if strings.Contains(line, inst) {
					copied[inst]++
				}
			}
		}
	}
	if len(copied) != 3 {
		t.Errorf("partitions copied per agent %v: want every agent to copy some", copied)
	}
	for _, inst := range instances {
		if inst != rec.Host && !strings.Contains(text, `"by":"worker `+inst+`"`) {
			t.Errorf("no log of worker %s in the job's folder", inst)
		}
	}
	if got := w.desired(); got[len(got)-1] != "0" {
		t.Errorf("desired capacities %v: want the group scaled in at the end", got)
	}
	// A worker's instance terminating: no job runs on it, so the
	// Lambda lets it go at once (its shutdown's SIGTERM stops a worker).
	worker := instances[0]
	if worker == rec.Host {
		worker = instances[1]
	}
	completed := len(w.fake.Calls("autoscaling:CompleteLifecycleAction"))
	res := invoke(t, w.h, strings.ReplaceAll(readFile(t, "terminate_action.json"), stackInstance, worker))
	calls := w.fake.Calls("autoscaling:CompleteLifecycleAction")[completed:]
	if len(calls) != 1 || calls[0].Param("InstanceId") != worker || calls[0].AccessKey != functionKey || len(res.IDs) != 0 {
		t.Errorf("a worker's terminate action: %+v, CompleteLifecycleAction %+v; want it completed by the Lambda", res, calls)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
}
