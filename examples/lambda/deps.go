package main

import (
	"context"

	"github.com/efsync/efsync/orchestrate/aws"
)

// newDeps returns the AWS backends of cfg: orchestrate/aws over the SDK's
// configuration of the environment (the function's role and region;
// AWS_ENDPOINT_URL_<SERVICE> if set), and the group's lifecycle actions.
func newDeps(ctx context.Context, cfg Config) (Deps, error) {
	sdk, err := aws.LoadConfig(ctx)
	if err != nil {
		return Deps{}, err
	}
	r := cfg.Resources
	b, err := aws.New(sdk, aws.Resources{Group: r.Group, LifecycleHook: r.LifecycleHook,
		Table: r.Table, Bucket: r.Bucket, Topic: r.Topic, Namespace: r.Namespace,
		TimerTarget: r.TimerTarget, TimerRole: r.TimerRole, AgentPath: r.AgentPath, TTL: r.TTL,
		Label: cfg.Plan.Label, RulePrefix: r.RulePrefix})
	if err != nil {
		return Deps{}, err
	}
	return Deps{Backends: b, Lifecycle: fleetLifecycle{b.Fleet.(*aws.Fleet)}}, nil
}

// fleetLifecycle is the Lifecycle of an Auto Scaling group: its
// CompleteLifecycle, which finds an action completed already harmless.
type fleetLifecycle struct{ f *aws.Fleet }

func (l fleetLifecycle) Complete(ctx context.Context, instance string) error {
	return l.f.CompleteLifecycle(ctx, instance)
}
