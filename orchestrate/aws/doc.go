// Package aws holds the orchestrate backends on AWS, the only package of
// efsync that imports the AWS SDK (aws-sdk-go-v2):
//
//	Fleet      Auto Scaling: desired capacity the plan's Agents (else
//	           Resources.Capacity), then 0; CompleteLifecycle (CONTINUE)
//	           for the terminate hook
//	Timer      EventBridge: a rule per backup, firing once, removed by Cancel
//	Commander  the stop request in the job's item (Catalog.RequestStop),
//	           then SSM SendCommand, AWS-RunShellScript: AGENT stop --id ID
//	Catalog    DynamoDB, key BackupId: the seed's KPIs, phases and status as
//	           attributes, the whole record as JSON, a Number TTL,
//	           conditional writes; Lead elects one agent of a shared job
//	Logs       S3: efsync-logs/<label>/<id>/<part>.log, a part per Open
//	Notifier   SNS: the notice's subject, and the notice as JSON
//	Metrics    CloudWatch PutMetricData, converted from kpi.Report here
//	Queue      SQS: an efsync.Queue, tasks on URL, completions on URL-done
//
// A night, as the Lambda (examples/lambda) and the agent (agent run
// --aws) drive it:
//
//	schedule  -> Handle(ScheduleStart{At})  -> Catalog.Put (claims the slot)
//	                                        -> Timer.Set: rule efsync-ID, input {"efsyncWindowEnd": ID}
//	                                        -> Fleet.Start: Job in the item, desired capacity N
//	instance  -> agent: Catalog.Jobs/Job, backup, Put record, upload logs,
//	             Fleet.CompleteLifecycle, scale to 0 when done early
//	N > 1     -> each agent: Catalog.Lead (a conditional write); the winner
//	             backs up publishing to the Queue and copies too, the others
//	             copy from the Queue until the record has a status
//	rule      -> ParseTimerEvent -> Handle(WindowEnd{ID}) -> Fleet.Stop: desired 0
//	hook      -> Handle(StopRequested{ID}) -> Commander.Stop: the request in the
//	             item, SSM agent stop --id ID; an agent not up yet reads the
//	             request (StopRequested) when it starts, and every poll after
//	terminated-> Handle(AgentGone{ID}) -> metrics, a notice unless success
//
// The Timer uses EventBridge rules, not EventBridge Scheduler's one-time
// at() schedules, which would delete themselves after use: the
// Scheduler's SDK module is not one the project can fetch, and a rule
// whose cron expression names the year fires once all the same. The
// orchestrator cancels the timer of every job it finishes, so the rule
// is removed after use, whether it fired or not. The price is a minute's
// resolution (the rule fires within the minute of the time asked, early
// rather than late) and one more API call per backup; a Lambda target
// needs a resource policy allowing events.amazonaws.com on rules named
// RulePrefix*, not a role.
//
// The Catalog's writes are conditional, so that neither two orchestrator
// invocations for one scheduled start (at-least-once delivery, Lambda's
// retries) start two backups, nor a late or repeated write takes a job
// backwards, nor two agents lead one job: see Catalog, ErrClaimed,
// ErrStale and Catalog.Lead.
//
// Of a shared job's agents only the leader is the job's host: the
// Lambda's terminate hook stops it through SSM, and lets the workers'
// instances go at once (their shutdown's SIGTERM stops them gracefully;
// a partition in flight is delivered again, to nobody, and dropped by
// the next job's workers). A leader that dies takes its job with it: the
// job is recorded as gone with its instance, and the next backup goes on
// with its tree.
package aws
