package aws

import (
	"context"
	"errors"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/efsync/efsync"
)

// ErrEnded is returned by Lead for a job whose record has a status: its
// agents have nothing left to do.
var ErrEnded = errors.New("the job has ended")

// Lead makes instance the leader of the running job id, unless another
// instance leads it already, and returns the leader. Of the agents that a
// job with Plan.Agents > 1 starts, each calls Lead when it boots: a
// conditional write, so exactly one wins and runs the job; the others
// work for it through the queue. An agent that restarts on the leader's
// instance leads again. A job without a running record is an error
// matching efsync.ErrNotFound, or ErrEnded once it has a status.
//
// The lead is not handed over: a leader that dies takes its job with it
// (the orchestrator buries the job when its instance is gone, and the
// next backup goes on with its tree).
func (c *Catalog) Lead(ctx context.Context, id, instance string) (string, error) {
	if instance == "" {
		return "", fmt.Errorf("catalog: lead %s: no instance", id)
	}
	_, err := c.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                awssdk.String(c.table),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		UpdateExpression:         awssdk.String("SET #leader = :me"),
		ConditionExpression:      awssdk.String("#rank = :running AND (attribute_not_exists(#leader) OR #leader = :me)"),
		ExpressionAttributeNames: map[string]string{"#leader": attrLeader, "#rank": attrRank},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": str(instance),
			":running": num(int64(rankRunning))},
	})
	if err == nil {
		return instance, nil
	}
	if !conditionFailed(err) {
		return "", c.fail(ctx, "lead", id, err)
	}
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      awssdk.String(c.table),
		Key:            map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		ConsistentRead: awssdk.Bool(true),
	})
	if err != nil {
		return "", c.fail(ctx, "lead", id, err)
	}
	if _, ok := out.Item[attrRecord]; !ok {
		return "", fmt.Errorf("catalog: lead %s: %w", id, efsync.ErrNotFound)
	}
	if leader, ok := out.Item[attrLeader].(*ddbtypes.AttributeValueMemberS); ok && rankOfItem(out.Item) == rankRunning {
		return leader.Value, nil
	}
	return "", fmt.Errorf("catalog: lead %s: %w", id, ErrEnded)
}

// rankOfItem returns the rank an item records, 0 if none.
func rankOfItem(item map[string]ddbtypes.AttributeValue) rank {
	n, ok := item[attrRank].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0
	}
	var r rank
	fmt.Sscan(n.Value, &r)
	return r
}
