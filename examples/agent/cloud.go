package main

import (
	"context"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/aws"
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
	// Leader elects the agent that runs a job the group's agents share
	// (jobOptions.Queue): on AWS, Catalog.Lead, a conditional write.
	Leader interface {
		Lead(ctx context.Context, id, instance string) (string, error)
	}
	// Stops holds the orchestrator's stop requests, for the agent that
	// runs a job: on AWS, the Catalog's. Nil has none.
	Stops stopRequests
}

// cloudConfig names the stack's resources the agent works on.
type cloudConfig struct {
	Table, Bucket, Group, Hook string
	TTL                        time.Duration
}

// newAWSCloud returns the cloud of c on AWS: the SDK's configuration of
// the environment (the instance profile, the instance's region;
// AWS_ENDPOINT_URL_<SERVICE> if set), the backends of the stack's
// resources, and this instance's id from its metadata (IMDSv2).
func newAWSCloud(ctx context.Context, c cloudConfig) (cloud, error) {
	sdk, err := aws.LoadConfig(ctx)
	if err != nil {
		return cloud{}, err
	}
	// The agent uses the Catalog, Logs and Fleet only; New wants the
	// others' names, which no call of the agent's reads.
	r := aws.Resources{Group: c.Group, LifecycleHook: c.Hook, Table: c.Table, Bucket: c.Bucket, TTL: c.TTL,
		Topic: "unused", Namespace: "unused", TimerTarget: "unused", AgentPath: "unused"}
	b, err := aws.New(sdk, r)
	if err != nil {
		return cloud{}, err
	}
	id, err := aws.InstanceID(ctx, sdk)
	if err != nil {
		return cloud{}, err
	}
	return cloud{Catalog: b.Catalog, Logs: b.Logs, Fleet: b.Fleet, Lifecycle: fleetLifecycle{b.Fleet.(*aws.Fleet)}, Instance: id,
		Leader: b.Catalog.(*aws.Catalog), Stops: b.Catalog.(*aws.Catalog)}, nil
}

// fleetLifecycle completes the instance's terminate lifecycle action
// through the group's Fleet: an error while none is pending (the group
// has not begun to terminate the instance yet), so that release tries
// again.
type fleetLifecycle struct{ f *aws.Fleet }

func (l fleetLifecycle) Complete(ctx context.Context, instance string) error {
	return l.f.CompletePending(ctx, instance)
}
