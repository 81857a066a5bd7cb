package aws

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// setJob stores job with its record, which must exist and be running:
// the agent reads it there (Job, Jobs), as all job state is in the
// catalog.
func (c *Catalog) setJob(ctx context.Context, job orchestrate.Job) error {
	js, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("catalog: job %s: %w", job.ID, err)
	}
	_, err = c.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 awssdk.String(c.table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: str(job.ID)},
		UpdateExpression:          awssdk.String("SET #job = :job"),
		ConditionExpression:       awssdk.String("#rank = :running"),
		ExpressionAttributeNames:  map[string]string{"#job": attrJob, "#rank": attrRank},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":job": str(string(js)), ":running": num(int64(rankRunning))},
	})
	if conditionFailed(err) {
		return fmt.Errorf("catalog: job %s: no running record: %w", job.ID, efsync.ErrNotFound)
	}
	return c.fail(ctx, "store the job of", job.ID, err)
}

// Job returns the job of backup id as Fleet.Start stored it: what an
// agent runs. An id without one is an error matching efsync.ErrNotFound.
func (c *Catalog) Job(ctx context.Context, id string) (orchestrate.Job, error) {
	if err := ctx.Err(); err != nil {
		return orchestrate.Job{}, err
	}
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      awssdk.String(c.table),
		Key:            map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		ConsistentRead: awssdk.Bool(true),
	})
	if err != nil {
		return orchestrate.Job{}, c.fail(ctx, "job", id, err)
	}
	return jobOf(id, out.Item)
}

// Jobs returns the jobs whose records are still running, oldest first:
// an agent that boots runs the newest.
func (c *Catalog) Jobs(ctx context.Context) ([]orchestrate.Job, error) {
	items, err := c.scan(ctx, "attribute_exists(#job) AND #rank = :running",
		map[string]string{"#job": attrJob, "#rank": attrRank},
		map[string]ddbtypes.AttributeValue{":running": num(int64(rankRunning))})
	if err != nil {
		return nil, err
	}
	var out []orchestrate.Job
	for _, item := range items {
		j, err := jobOf("", item)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b orchestrate.Job) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// jobOf decodes the job of an item, that of id.
func jobOf(id string, item map[string]ddbtypes.AttributeValue) (orchestrate.Job, error) {
	var j orchestrate.Job
	s, ok := item[attrJob].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return j, fmt.Errorf("catalog: job %s: %w", id, efsync.ErrNotFound)
	}
	if err := json.Unmarshal([]byte(s.Value), &j); err != nil {
		return j, fmt.Errorf("catalog: job %s: %w", id, err)
	}
	return j, nil
}
