//go:build ignore

// The wiring of agent run --aws, once orchestrate/aws is merged: delete
// newAWSCloud in cloud.go and the build tag above.

package main

import (
	"context"
	"fmt"

	"github.com/efsync/efsync/orchestrate/aws"
)

// newAWSCloud returns the cloud of c on AWS: the SDK's default
// configuration (the instance profile, the instance's region), the
// backends of the stack's resources, and this instance's id from IMDS.
func newAWSCloud(ctx context.Context, c cloudConfig) (cloud, error) {
	sdk, err := aws.DefaultConfig(ctx)
	if err != nil {
		return cloud{}, fmt.Errorf("aws config: %w", err)
	}
	r := aws.Resources{Group: c.Group, LifecycleHook: c.Hook, Table: c.Table, Bucket: c.Bucket, TTL: c.TTL}
	b, err := aws.New(sdk, r)
	if err != nil {
		return cloud{}, err
	}
	id, err := aws.InstanceID(ctx, sdk)
	if err != nil {
		return cloud{}, fmt.Errorf("instance id: %w", err)
	}
	return cloud{Catalog: b.Catalog, Logs: b.Logs, Fleet: b.Fleet, Lifecycle: aws.NewLifecycle(sdk, r), Instance: id}, nil
}
