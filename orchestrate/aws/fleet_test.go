package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/orchestrate"
)

// TestFleet: Start stores the job with its record and scales the group to
// its capacity; Stop scales it to 0, also twice; the agent reads the job
// back.
func TestFleet(t *testing.T) {
	e := newEnv(t, true)
	id := efsync.NewBackupID(e.now)
	if err := e.b.Catalog.Put(t.Context(), efsync.Record{ID: id, Label: "daily", Start: e.now}); err != nil {
		t.Fatal(err)
	}
	job := orchestrate.Job{ID: id, Start: e.now, Deadline: e.now.Add(time.Hour),
		Plan: orchestrate.Plan{Label: "daily", Source: "/mnt/src", Repo: "/mnt/dst", Window: time.Hour, Keep: efsync.Retention{Last: 7}}}
	if err := e.b.Fleet.Start(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.b.Fleet.Stop(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	var desired []string
	for _, c := range e.fake.Calls("autoscaling:UpdateAutoScalingGroup") {
		if c.Param("AutoScalingGroupName") != e.res.Group {
			t.Errorf("scaled group %q, want %q", c.Param("AutoScalingGroupName"), e.res.Group)
		}
		desired = append(desired, c.Param("DesiredCapacity"))
	}
	if d := cmp.Diff([]string{"1", "0", "0"}, desired); d != "" {
		t.Errorf("desired capacities (-want +got):\n%s", d)
	}
	cat := e.b.Catalog.(*Catalog)
	got, err := cat.Job(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(job, got); d != "" {
		t.Errorf("the job read back (-stored +read):\n%s", d)
	}
	jobs, err := cat.Jobs(t.Context())
	if err != nil || len(jobs) != 1 || jobs[0].ID != id {
		t.Errorf("Jobs: %+v, %v; want the one running job", jobs, err)
	}
}

// TestFleetStartWithoutRecord: a job whose record is not running is not
// started: no scale-out.
func TestFleetStartWithoutRecord(t *testing.T) {
	e := newEnv(t, true)
	err := e.b.Fleet.Start(t.Context(), orchestrate.Job{ID: efsync.NewBackupID(e.now)})
	if err == nil {
		t.Fatal("started a job without a record")
	}
	if c := e.fake.Calls("autoscaling:UpdateAutoScalingGroup"); len(c) != 0 {
		t.Errorf("scaled out anyway: %v", c)
	}
}

// TestCompleteLifecycleTwice: the agent completes the hook's action, the
// Lambda's fallback completes it again and gets Auto Scaling's
// ValidationError, which is no error; another error is one.
func TestCompleteLifecycleTwice(t *testing.T) {
	e := newEnv(t, false)
	done := map[string]bool{}
	e.fake.Handle("autoscaling:CompleteLifecycleAction", func(c awsfake.Call) (any, *awsfake.APIError) {
		i := c.Param("InstanceId")
		if done[i] { // as Auto Scaling answers (calls come one at a time here)
			return nil, &awsfake.APIError{Status: 400, Code: "ValidationError",
				Message: "No active Lifecycle Action found with instance ID " + i}
		}
		done[i] = true
		return nil, nil
	})
	f := e.b.Fleet.(*Fleet)
	for range 2 {
		if err := f.CompleteLifecycle(t.Context(), "i-0123"); err != nil {
			t.Fatalf("complete: %v", err)
		}
	}
	calls := e.fake.Calls("autoscaling:CompleteLifecycleAction")
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	want := map[string]any{"AutoScalingGroupName": e.res.Group, "LifecycleHookName": e.res.LifecycleHook,
		"InstanceId": "i-0123", "LifecycleActionResult": "CONTINUE"}
	if d := cmp.Diff(want, calls[0].Params); d != "" {
		t.Errorf("params (-want +got):\n%s", d)
	}
	if err := f.CompletePending(t.Context(), "i-0123"); !errors.Is(err, ErrNoPendingAction) {
		t.Errorf("CompletePending of a completed action: %v, want ErrNoPendingAction", err)
	}
	e.fake.Handle("autoscaling:CompleteLifecycleAction", func(awsfake.Call) (any, *awsfake.APIError) {
		return nil, &awsfake.APIError{Status: 400, Code: "ValidationError", Message: "AutoScalingGroup name not found"}
	})
	if err := f.CompleteLifecycle(t.Context(), "i-0123"); err == nil {
		t.Error("another ValidationError was taken for success")
	}
}

// TestNewValidates: New names every missing resource.
func TestNewValidates(t *testing.T) {
	_, err := New(awssdk.Config{}, Resources{Group: "g", TTL: -time.Second})
	if err == nil {
		t.Fatal("New took incomplete resources")
	}
	for _, name := range []string{"LifecycleHook", "Table", "Bucket", "Topic", "Namespace", "TimerTarget", "AgentPath", "TTL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error doesn't name %s: %v", name, err)
		}
	}
}

// TestFleetStartsPlanAgents: a plan's Agents overrides the group's
// Capacity; a plan without lets Capacity (1) decide.
func TestFleetStartsPlanAgents(t *testing.T) {
	e := newEnv(t, true)
	var want []string
	for _, agents := range []int{3, 0} {
		id := efsync.NewBackupID(e.now)
		if err := e.b.Catalog.Put(t.Context(), efsync.Record{ID: id, Label: "daily", Start: e.now.Add(time.Duration(agents) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		job := orchestrate.Job{ID: id, Start: e.now, Plan: orchestrate.Plan{Label: "daily", Source: "/s", Repo: "/r", Agents: agents}}
		if err := e.b.Fleet.Start(t.Context(), job); err != nil {
			t.Fatal(err)
		}
		want = append(want, map[int]string{3: "3", 0: "1"}[agents])
	}
	var desired []string
	for _, c := range e.fake.Calls("autoscaling:UpdateAutoScalingGroup") {
		desired = append(desired, c.Param("DesiredCapacity"))
	}
	if d := cmp.Diff(want, desired); d != "" {
		t.Errorf("desired capacities (-want +got):\n%s", d)
	}
}
