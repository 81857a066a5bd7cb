package aws

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attrStop is the time a stop of the job was asked for (RFC 3339): an
// attribute of its own, so that the agent's Puts, which set only the
// attributes they know, keep it.
const attrStop = "StopRequested"

// RequestStop records that backup id is to stop, if its job is running:
// Commander.Stop does it before its SSM command, which reaches only the
// instances SSM has registered. An agent still booting when the command
// is sent reads the request instead (StopRequested), when it picks its
// job and every poll after, so a stop is never lost. A job that has
// ended, or none, is left as is.
func (c *Catalog) RequestStop(ctx context.Context, id string, at time.Time) error {
	_, err := c.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                awssdk.String(c.table),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		UpdateExpression:         awssdk.String("SET #stop = if_not_exists(#stop, :at)"),
		ConditionExpression:      awssdk.String("attribute_exists(#rec) AND #rank = :running"),
		ExpressionAttributeNames: map[string]string{"#stop": attrStop, "#rec": attrRecord, "#rank": attrRank},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":at": str(timeString(at)),
			":running": num(int64(rankRunning))},
	})
	if conditionFailed(err) { // ended, or unknown: nothing to stop
		return nil
	}
	return c.fail(ctx, "request stop", id, err)
}

// StopRequested reports whether a stop of backup id was asked for
// (RequestStop), and when.
func (c *Catalog) StopRequested(ctx context.Context, id string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                awssdk.String(c.table),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		ConsistentRead:           awssdk.Bool(true),
		ProjectionExpression:     awssdk.String("#stop"),
		ExpressionAttributeNames: map[string]string{"#stop": attrStop},
	})
	if err != nil {
		return time.Time{}, false, c.fail(ctx, "read stop request", id, err)
	}
	v, ok := out.Item[attrStop].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return time.Time{}, false, nil
	}
	at, _ := time.Parse(time.RFC3339Nano, v.Value) // the time is for people: a request is a request
	return at, true, nil
}
