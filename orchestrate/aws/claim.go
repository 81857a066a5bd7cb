package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/efsync/efsync"
)

// claimPrefix starts the key of a schedule slot's claim item, which no
// record id can start with (ids start with a digit).
const claimPrefix = "claim#"

// claimKey returns the key of the claim of r's slot: its label and start.
func claimKey(r efsync.Record) string {
	return claimPrefix + r.Label + "#" + r.Start.UTC().Format(time.RFC3339Nano)
}

// claim claims the schedule slot of r, whose running record Put has just
// created. A slot held by another record refuses it: r's record is then
// deleted, and ErrClaimed returned. A record without a start claims
// nothing.
//
// NB: the record is created before the claim, not after, so that a
// crash between the two leaves a record without a claim, which the
// retry's claims can pass, rather than a claim that refuses every retry.
func (c *Catalog) claim(ctx context.Context, r efsync.Record) error {
	if r.Start.IsZero() {
		return nil
	}
	item := map[string]ddbtypes.AttributeValue{KeyAttribute: str(claimKey(r)), attrClaim: str(r.ID)}
	if c.opt.TTL > 0 {
		item[TTLAttribute] = num(r.Start.Add(c.opt.TTL).Unix())
	}
	_, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 awssdk.String(c.table),
		Item:                      item,
		ConditionExpression:       awssdk.String("attribute_not_exists(#k) OR #c = :id"),
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute, "#c": attrClaim},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": str(r.ID)},
	})
	if !conditionFailed(err) {
		return c.fail(ctx, "claim the slot of", r.ID, err)
	}
	_, err = c.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 awssdk.String(c.table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: str(r.ID)},
		ConditionExpression:       awssdk.String("#rank = :running"),
		ExpressionAttributeNames:  map[string]string{"#rank": attrRank},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":running": num(int64(rankRunning))},
	})
	if err != nil && !conditionFailed(err) {
		return c.fail(ctx, "delete the unclaimed", r.ID, err)
	}
	return fmt.Errorf("catalog: put %s: %s at %s: %w", r.ID, r.Label, r.Start.UTC().Format(time.RFC3339Nano), ErrClaimed)
}

// ReleaseSlot gives up the slot that r's record claimed, if it still
// holds it: r is a job that could not start (orchestrate.SlotReleaser),
// and the retry of its start claims the slot anew.
func (c *Catalog) ReleaseSlot(ctx context.Context, r efsync.Record) error {
	if r.Start.IsZero() {
		return nil
	}
	_, err := c.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 awssdk.String(c.table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: str(claimKey(r))},
		ConditionExpression:       awssdk.String("#c = :id"),
		ExpressionAttributeNames:  map[string]string{"#c": attrClaim},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": str(r.ID)},
	})
	if conditionFailed(err) {
		return nil // another job's, or none
	}
	return c.fail(ctx, "release the slot of", r.ID, err)
}
