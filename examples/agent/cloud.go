package main

import (
	"context"
	"errors"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// cloud is what agent run needs of the cloud it runs in: on AWS,
// orchestrate/aws's backends of the stack's resources (cloud_aws.go).
type cloud struct {
	// Catalog is the orchestrator's (DynamoDB): the job's record, and the
	// agent's final record, written once its log is flushed.
	Catalog efsync.Catalog
	// Logs keeps the run's log (S3).
	Logs orchestrate.LogStore
	// Fleet is the orchestrator's; Stop scales the group to 0.
	Fleet orchestrate.Fleet
	// Lifecycle completes this instance's terminate lifecycle action
	// (CONTINUE). Complete returns an error while the instance has none
	// waiting, and nil once done; completing one twice MUST be harmless.
	Lifecycle interface {
		Complete(ctx context.Context, instance string) error
	}
	// Instance is this machine's id (the EC2 instance id): the agent
	// claims its job by writing it as the record's Host.
	Instance string
}

// cloudConfig names the stack's resources the agent works on.
type cloudConfig struct {
	Table, Bucket, Group, Hook string
	TTL                        time.Duration
}

// newAWSCloud returns the cloud of c on AWS.
//
// NB: orchestrate/aws is built on branch awsbackends. Until it is merged,
// this stand-in refuses to run; cloud_aws.go holds the wiring, tagged
// ignore so that go mod tidy passes over it: merging is deleting this
// function and that tag.
func newAWSCloud(context.Context, cloudConfig) (cloud, error) {
	return cloud{}, errors.New("built without orchestrate/aws (branch awsbackends): --aws can't run")
}
