package aws

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// Resources names the AWS resources of one deployment, as the
// CloudFormation stack makes them.
type Resources struct {
	Group, LifecycleHook string // Auto Scaling group and its terminate hook
	Table, Bucket, Topic string // DynamoDB table, S3 log bucket, SNS topic ARN
	Namespace            string // CloudWatch namespace
	// TimerTarget is the ARN the Timer's events invoke (the orchestrator
	// Lambda); TimerRole, if set, the role EventBridge uses for it (a
	// Lambda target needs none: its resource policy allows
	// events.amazonaws.com).
	TimerTarget, TimerRole string
	AgentPath              string        // the agent binary on instances, for the SSM stop
	TTL                    time.Duration // records' time to live (0: none)

	// Label is the plan's label, for the log keys
	// efsync-logs/<label>/<id>/; "" means efsync.DefaultLabel.
	Label string
	// Capacity is the group's desired capacity while a backup runs; 0
	// means 1.
	Capacity int32
	// RulePrefix starts the name of each backup's EventBridge rule;
	// "" means "efsync-". IAM can then grant rule/<prefix>*.
	RulePrefix string
}

// validate names the missing resources, and fills in the defaults.
func (r *Resources) validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"Group", r.Group}, {"LifecycleHook", r.LifecycleHook}, {"Table", r.Table}, {"Bucket", r.Bucket},
		{"Topic", r.Topic}, {"Namespace", r.Namespace}, {"TimerTarget", r.TimerTarget}, {"AgentPath", r.AgentPath},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s is required", f.name))
		}
	}
	if r.TTL < 0 || r.Capacity < 0 {
		errs = append(errs, fmt.Errorf("TTL %s, Capacity %d: want positive values", r.TTL, r.Capacity))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("aws resources: %w", err)
	}
	if r.Label == "" {
		r.Label = efsync.DefaultLabel
	}
	if r.Capacity == 0 {
		r.Capacity = 1
	}
	if r.RulePrefix == "" {
		r.RulePrefix = "efsync-"
	}
	return nil
}

// Endpoints are the URLs of the services, to use emulators or VPC
// endpoints instead of AWS's; "" keeps the SDK's, which the environment
// may set (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
type Endpoints struct {
	AutoScaling, CloudWatch, DynamoDB, EventBridge, S3, SNS, SSM string
}

// Options are the options of NewWithOptions. The zero value is valid.
type Options struct {
	Endpoints Endpoints
	// S3PathStyle addresses buckets as URL paths, as emulators need.
	S3PathStyle bool
	// Now is the clock of the records' TTL and the log parts' names; the
	// default is time.Now.
	Now func() time.Time
	// Logger gets the backends' warnings; the default discards them.
	Logger *slog.Logger
}

// New returns the AWS backends of r, with clients made from cfg: Auto
// Scaling, EventBridge, SSM, DynamoDB, S3, SNS and CloudWatch. It
// contacts nothing.
func New(cfg awssdk.Config, r Resources) (orchestrate.Backends, error) {
	return NewWithOptions(cfg, r, Options{})
}

// NewWithOptions is New with options. The concrete types behind the
// interfaces (*Fleet, *Timer, *Catalog, *Logs...) have methods of their
// own for the agent and the Lambda: Fleet.CompleteLifecycle,
// Catalog.Job, Catalog.Jobs.
func NewWithOptions(cfg awssdk.Config, r Resources, opts Options) (orchestrate.Backends, error) {
	if err := r.validate(); err != nil {
		return orchestrate.Backends{}, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ep := opts.Endpoints
	cat := NewCatalog(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint(ep.DynamoDB, o.BaseEndpoint) }),
		r.Table, CatalogOptions{TTL: r.TTL, Now: opts.Now})
	return orchestrate.Backends{
		Fleet: &Fleet{
			client: autoscaling.NewFromConfig(cfg, func(o *autoscaling.Options) { o.BaseEndpoint = endpoint(ep.AutoScaling, o.BaseEndpoint) }),
			cat:    cat, group: r.Group, hook: r.LifecycleHook, capacity: r.Capacity,
		},
		Timer: &Timer{
			client: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint(ep.EventBridge, o.BaseEndpoint) }),
			prefix: r.RulePrefix, target: r.TimerTarget, role: r.TimerRole,
		},
		Commander: &Commander{
			client: ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = endpoint(ep.SSM, o.BaseEndpoint) }),
			cat:    cat, group: r.Group, agent: r.AgentPath,
		},
		Catalog: cat,
		Logs: &Logs{
			client: s3.NewFromConfig(cfg, func(o *s3.Options) {
				o.BaseEndpoint, o.UsePathStyle = endpoint(ep.S3, o.BaseEndpoint), o.UsePathStyle || opts.S3PathStyle
			}),
			bucket: r.Bucket, label: r.Label, now: opts.Now,
		},
		Notifier: &Notifier{
			client: sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = endpoint(ep.SNS, o.BaseEndpoint) }),
			topic:  r.Topic,
		},
		Metrics: &Metrics{
			client:    cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = endpoint(ep.CloudWatch, o.BaseEndpoint) }),
			namespace: r.Namespace,
		},
	}, nil
}

// endpoint returns url as a client's BaseEndpoint; for "", cur, the one
// the SDK's configuration gave (AWS_ENDPOINT_URL_DYNAMODB and the like),
// if any.
func endpoint(url string, cur *string) *string {
	if url == "" {
		return cur
	}
	return awssdk.String(url)
}
