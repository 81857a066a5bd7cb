package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/efsync/efsync/orchestrate"
)

// timerTargetID is the id of the one target of each rule.
const timerTargetID = "efsync-orchestrator"

// Timer is the orchestrate.Timer on EventBridge: one rule per backup,
// named RulePrefix+id, whose schedule fires once (a cron expression that
// names the year), with one target, the orchestrator, whose constant
// input is a TimerEvent: the id alone. Cancel removes the rule; the
// orchestrator cancels every ended backup's timer, so rules are removed
// after use whether they fired or not. It is safe for concurrent use.
//
// The schedule has a minute's resolution: the event comes within the
// minute of at, truncated, so up to a minute early. Plan.Margin should
// allow for it.
type Timer struct {
	// config
	client *eventbridge.Client
	prefix string
	target string
	role   string
}

// TimerEvent is the payload of the Timer's event: the id of the backup
// whose window ends, and nothing else (the seed kept the job's state in
// it, and lost it).
type TimerEvent struct {
	WindowEnd string `json:"efsyncWindowEnd"`
}

// ParseTimerEvent returns the WindowEnd that payload, a Lambda's event,
// holds, and whether it is a TimerEvent.
func ParseTimerEvent(payload []byte) (orchestrate.WindowEnd, bool) {
	var ev TimerEvent
	if json.Unmarshal(payload, &ev) != nil || ev.WindowEnd == "" {
		return orchestrate.WindowEnd{}, false
	}
	return orchestrate.WindowEnd{ID: ev.WindowEnd}, true
}

// Set creates or replaces the rule of id, to fire at at.
func (t *Timer) Set(ctx context.Context, id string, at time.Time) error {
	name := t.prefix + id
	_, err := t.client.PutRule(ctx, &eventbridge.PutRuleInput{
		Name:               awssdk.String(name),
		ScheduleExpression: awssdk.String(scheduleAt(at)),
		State:              ebtypes.RuleStateEnabled,
		Description:        awssdk.String("efsync: the window's end of backup " + id),
	})
	if err != nil {
		return fmt.Errorf("timer %s: %w", id, err)
	}
	input, err := json.Marshal(TimerEvent{WindowEnd: id})
	if err != nil {
		return fmt.Errorf("timer %s: %w", id, err)
	}
	target := ebtypes.Target{Id: awssdk.String(timerTargetID), Arn: awssdk.String(t.target), Input: awssdk.String(string(input))}
	if t.role != "" {
		target.RoleArn = awssdk.String(t.role)
	}
	out, err := t.client.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: awssdk.String(name), Targets: []ebtypes.Target{target}})
	if err == nil && out.FailedEntryCount > 0 {
		err = fmt.Errorf("%s", awssdk.ToString(out.FailedEntries[0].ErrorMessage))
	}
	if err != nil {
		return fmt.Errorf("timer %s: target: %w", id, err)
	}
	return nil
}

// Cancel removes the rule of id and its target. An unknown rule, or one
// removed already, is no error.
func (t *Timer) Cancel(ctx context.Context, id string) error {
	name := awssdk.String(t.prefix + id)
	_, err := t.client.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: name, Ids: []string{timerTargetID}})
	if err == nil {
		_, err = t.client.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: name})
	}
	if err != nil && apiCode(err) != "ResourceNotFoundException" {
		return fmt.Errorf("cancel timer %s: %w", id, err)
	}
	return nil
}

// scheduleAt returns the EventBridge schedule expression that fires once,
// in the minute of at (UTC): cron(minutes hours day-of-month month
// day-of-week year).
func scheduleAt(at time.Time) string {
	at = at.UTC()
	return fmt.Sprintf("cron(%d %d %d %d ? %d)", at.Minute(), at.Hour(), at.Day(), int(at.Month()), at.Year())
}
