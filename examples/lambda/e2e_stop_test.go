package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/efsync/efsync/kpi"
)

// stopBeforeAgent: the group terminates the instance before its agent
// has started (an operator scaled in, or the instance failed its health
// check as it booted). The lifecycle event's stop reaches no agent: SSM
// has not registered the instance, so no command runs. The agent that
// starts then finds the stop in the catalog: it copies nothing, records
// the job Incomplete, flushes its log and completes the lifecycle action.
// Before, the stop was lost, and the agent copied on until the hook's
// timeout killed its instance mid-file.
func (w *e2e) stopBeforeAgent(t *testing.T) {
	before := entries(t, w.repo)
	sends, completed := len(w.fake.Calls("ssm:SendCommand")), len(w.fake.Calls("autoscaling:CompleteLifecycleAction"))
	pubs := len(w.fake.Calls("sns:Publish"))
	id := w.start(t)
	res := invoke(t, w.h, readFile(t, "terminate_action.json"))
	if !slices.Equal(res.IDs, []string{id}) || len(w.fake.Calls("ssm:SendCommand")) != sends+1 {
		t.Fatalf("terminating before the agent: %+v, %d SendCommand; want the stop of %s sent", res, len(w.fake.Calls("ssm:SendCommand"))-sends, id)
	}
	_, wait := w.agent(t) // SSM's command never ran: the instance was not registered
	code, out := wait()
	if code != 3 || !strings.Contains(out, "stop requested in the catalog") {
		t.Fatalf("agent: exit %d, want 3 (Incomplete), stopped by the catalog's request\n%s", code, out)
	}
	if after := entries(t, w.repo); !slices.Equal(before, after) {
		t.Errorf("the stopped job wrote to the repository: %v, was %v", after, before)
	}
	if n := len(w.fake.Calls("autoscaling:CompleteLifecycleAction")) - completed; n != 1 {
		t.Errorf("%d CompleteLifecycleAction, want 1: the agent releases its instance", n)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	rec := w.record(t, id)
	if rec.Status != kpi.StatusIncomplete || rec.Host != stackInstance || !reported(rec) {
		t.Errorf("record: %q %q on %q, reported %v; want incomplete, by %s", rec.Status, rec.Reason, rec.Host, reported(rec), stackInstance)
	}
	if _, text := w.logs(t, id); !strings.Contains(text, "stop requested in the catalog") {
		t.Errorf("the log doesn't say why the job stopped:\n%s", text)
	}
	if p := w.fake.Calls("sns:Publish")[pubs:]; len(p) != 1 || !strings.Contains(fmt.Sprint(p[0].Params), id) {
		t.Errorf("SNS: %+v, want one notice of %s", p, id)
	}
}

// entries returns the names in dir but its state directory, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if de.Name() != ".efsync" {
			names = append(names, de.Name())
		}
	}
	return names
}
