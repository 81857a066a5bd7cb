package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/efsync/efsync"
)

// CatalogOptions are the options of NewCatalog. The zero value is valid.
type CatalogOptions struct {
	// TTL is how long a record is kept after its backup's start; 0 keeps
	// it for ever.
	TTL time.Duration
	// Now is the clock, for records without a start; the default is
	// time.Now.
	Now func() time.Time
}

// Catalog is the efsync.Catalog on a DynamoDB table whose key is the
// String BackupId. Every write is conditional:
//
//   - a Put never takes a job backwards (ErrStale): a running record
//     (no status) can't replace an ended one, nor an ended one a
//     reported one, so a late or repeated write of an agent or an
//     orchestrator can't undo a later one;
//   - a Put that creates a running record also claims its schedule slot,
//     its label and start time, in an item of its own: a second one for
//     that slot is refused (ErrClaimed), so two orchestrator invocations
//     for one scheduled start can't start two backups (ids have a random
//     part: two starts never share one).
//
// Put updates the record's attributes in place, so an attribute a Put
// doesn't know, such as the job Fleet.Start stores, is kept. It is safe
// for concurrent use, also by several processes.
type Catalog struct {
	// config
	client *dynamodb.Client
	table  string
	opt    CatalogOptions
}

var _ efsync.Catalog = (*Catalog)(nil)

// NewCatalog returns the catalog in table. It contacts nothing.
func NewCatalog(client *dynamodb.Client, table string, opt CatalogOptions) *Catalog {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Catalog{client: client, table: table, opt: opt}
}

// Put stores r under r.ID, unless that would take its job backwards
// (ErrStale) or start a second backup in its schedule slot (ErrClaimed).
func (c *Catalog) Put(ctx context.Context, r efsync.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.ID == "" || strings.HasPrefix(r.ID, claimPrefix) {
		return fmt.Errorf("catalog: put: invalid record id %q", r.ID)
	}
	var expires time.Time
	if c.opt.TTL > 0 {
		expires = cmp.Or(r.Start, c.opt.Now()).Add(c.opt.TTL)
	}
	item, err := itemOf(r, expires)
	if err != nil {
		return fmt.Errorf("catalog: put %s: %w", r.ID, err)
	}
	rk := rankOf(r)
	if rk == rankRunning {
		err = c.update(ctx, r.ID, item, "attribute_not_exists(#k)", nil)
		if err == nil {
			return c.claim(ctx, r)
		}
		if !conditionFailed(err) {
			return c.fail(ctx, "put", r.ID, err)
		}
	}
	err = c.update(ctx, r.ID, item, "attribute_not_exists(#k) OR #rank <= :rank",
		map[string]ddbtypes.AttributeValue{":rank": num(int64(rk))})
	if conditionFailed(err) {
		return fmt.Errorf("catalog: put %s with status %q: %w", r.ID, r.Status, ErrStale)
	}
	return c.fail(ctx, "put", r.ID, err)
}

// update sets the item of id to item, removing the optional attributes
// it lacks, if cond holds.
func (c *Catalog) update(ctx context.Context, id string, item map[string]ddbtypes.AttributeValue, cond string, vals map[string]ddbtypes.AttributeValue) error {
	names := map[string]string{"#k": KeyAttribute, "#rank": attrRank}
	values := map[string]ddbtypes.AttributeValue{}
	alias := func(name string) string { // every name through a placeholder: Status, Size... are reserved words
		ph := fmt.Sprintf("#a%d", len(names))
		names[ph] = name
		return ph
	}
	var set, remove []string
	for _, name := range slices.Sorted(maps.Keys(item)) {
		ph := alias(name)
		values[":"+ph[1:]] = item[name]
		set = append(set, ph+" = :"+ph[1:])
	}
	for _, name := range optionalAttrs {
		if _, ok := item[name]; !ok {
			remove = append(remove, alias(name))
		}
	}
	for k, v := range vals {
		values[k] = v
	}
	if !strings.Contains(cond, "#rank") { // DynamoDB refuses unused names
		delete(names, "#rank")
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := c.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 awssdk.String(c.table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		UpdateExpression:          awssdk.String(expr),
		ConditionExpression:       awssdk.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return err
}

// Get returns the record of id, or an error matching efsync.ErrNotFound.
func (c *Catalog) Get(ctx context.Context, id string) (efsync.Record, error) {
	if err := ctx.Err(); err != nil {
		return efsync.Record{}, err
	}
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      awssdk.String(c.table),
		Key:            map[string]ddbtypes.AttributeValue{KeyAttribute: str(id)},
		ConsistentRead: awssdk.Bool(true),
	})
	if err != nil {
		return efsync.Record{}, c.fail(ctx, "get", id, err)
	}
	if _, ok := out.Item[attrRecord]; !ok { // none, or a claim
		return efsync.Record{}, fmt.Errorf("catalog record %s: %w", id, efsync.ErrNotFound)
	}
	r, err := recordOf(out.Item)
	if err != nil {
		return r, fmt.Errorf("catalog record %s: %w", id, err)
	}
	return r, nil
}

// List returns every record, sorted by id: a consistent Scan, page by
// page.
func (c *Catalog) List(ctx context.Context) ([]efsync.Record, error) {
	items, err := c.scan(ctx, "attribute_exists(#rec)", map[string]string{"#rec": attrRecord}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]efsync.Record, 0, len(items))
	for _, item := range items {
		r, err := recordOf(item)
		if err != nil {
			return nil, fmt.Errorf("catalog: list: %w", err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b efsync.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// scan returns the items filter selects, all pages of them.
func (c *Catalog) scan(ctx context.Context, filter string, names map[string]string, values map[string]ddbtypes.AttributeValue) ([]map[string]ddbtypes.AttributeValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := &dynamodb.ScanInput{TableName: awssdk.String(c.table), ConsistentRead: awssdk.Bool(true),
		FilterExpression: awssdk.String(filter), ExpressionAttributeNames: names}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	var items []map[string]ddbtypes.AttributeValue
	for p := dynamodb.NewScanPaginator(c.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, c.fail(ctx, "scan", c.table, err)
		}
		items = append(items, page.Items...)
	}
	return items, nil
}

// fail wraps err of op on id, but returns ctx.Err() untouched once ctx is
// done, as efsync.Catalog requires; nil stays nil.
func (c *Catalog) fail(ctx context.Context, op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("catalog: %s %s: %w", op, id, err)
}

// conditionFailed reports whether err is a refused condition.
func conditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
