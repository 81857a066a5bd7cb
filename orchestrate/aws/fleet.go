package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/efsync/efsync/orchestrate"
)

// Fleet is the orchestrate.Fleet of an Auto Scaling group: Start stores
// the job in its record, where the agent reads it (Catalog.Job), and sets
// the group's desired capacity to the job's Plan.Agents, or else
// Resources.Capacity; Stop sets it to 0. Of several agents, the one whose
// Catalog.Lead wins runs the job; the others work for it.
// A running agent is then stopped through the group's terminate hook:
// the Lambda gets the hook's event and sends the SSM stop (Commander).
// It is safe for concurrent use.
//
// One group runs one backup at a time: Stop scales in whatever runs.
type Fleet struct {
	// config
	client   *autoscaling.Client
	cat      *Catalog
	group    string
	hook     string
	capacity int32
}

// Start stores job with its record, then scales the group out.
func (f *Fleet) Start(ctx context.Context, job orchestrate.Job) error {
	if err := f.cat.setJob(ctx, job); err != nil {
		return err
	}
	n := f.capacity
	if job.Plan.Agents > 0 {
		n = int32(job.Plan.Agents)
	}
	return f.scale(ctx, n)
}

// Stop scales the group in. Twice, late or for an unknown id, it sets 0
// again, which changes nothing.
func (f *Fleet) Stop(ctx context.Context, _ string) error {
	return f.scale(ctx, 0)
}

// scale sets the group's desired capacity to n.
func (f *Fleet) scale(ctx context.Context, n int32) error {
	_, err := f.client.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(f.group),
		DesiredCapacity:      awssdk.Int32(n),
	})
	if err != nil {
		return fmt.Errorf("scale %s to %d: %w", f.group, n, err)
	}
	return nil
}

// CompleteLifecycle lets the terminate hook of instance go on (CONTINUE):
// the agent calls it once it has flushed its record and logs, the Lambda
// as a fallback when the SSM stop failed or the heartbeat ran out. Doing
// it twice is harmless: the second finds no action pending, which is
// success.
func (f *Fleet) CompleteLifecycle(ctx context.Context, instance string) error {
	err := f.CompletePending(ctx, instance)
	if errors.Is(err, ErrNoPendingAction) {
		return nil
	}
	return err
}

// CompletePending is CompleteLifecycle, but returns an error matching
// ErrNoPendingAction when instance has no action pending: for the agent,
// which finishing early scales its group in and must then wait for its
// instance's action to be pending before it completes it.
func (f *Fleet) CompletePending(ctx context.Context, instance string) error {
	_, err := f.client.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName:  awssdk.String(f.group),
		LifecycleHookName:     awssdk.String(f.hook),
		InstanceId:            awssdk.String(instance),
		LifecycleActionResult: awssdk.String("CONTINUE"),
	})
	switch {
	case err == nil:
		return nil
	case noPendingAction(err):
		return fmt.Errorf("complete the lifecycle action of %s: %w", instance, ErrNoPendingAction)
	}
	return fmt.Errorf("complete the lifecycle action of %s: %w", instance, err)
}

// noPendingAction reports whether err is Auto Scaling's answer to a
// lifecycle action completed already, or timed out: "ValidationError: No
// active Lifecycle Action found with instance ID i-...".
func noPendingAction(err error) bool {
	return apiCode(err) == "ValidationError" && strings.Contains(err.Error(), "No active Lifecycle Action")
}
