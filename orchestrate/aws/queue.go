package aws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/efsync/efsync"
)

// Queue is an efsync.Queue on two SQS queues: Tasks, which the leader
// fills and workers empty, and Done, for the completions. Message bodies
// are JSON (efsync.EncodeTask), paths in base64, since SQS takes only
// UTF-8. A worker that dies leaves its task hidden for the queue's
// visibility timeout; SQS then delivers it again. It is safe for
// concurrent use.
type Queue struct {
	// config
	client      *sqs.Client
	tasks, done string // queue URLs
	wait        int32  // long poll, in seconds
}

// NewQueue returns the Queue of the SQS queue URLs tasks and done.
func NewQueue(client *sqs.Client, tasks, done string) *Queue {
	return &Queue{client: client, tasks: tasks, done: done, wait: 1}
}

// DoneURL returns the completions queue that goes with the tasks queue
// url, by convention: the same name, with "-done".
func DoneURL(url string) string { return url + "-done" }

// Publish sends t to the tasks queue.
func (q *Queue) Publish(ctx context.Context, t efsync.Task) error {
	body, err := efsync.EncodeTask(t)
	if err != nil {
		return err
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.tasks, MessageBody: &body})
	return err
}

// Report sends c to the completions queue.
func (q *Queue) Report(ctx context.Context, c efsync.Completion) error {
	body, err := efsync.EncodeCompletion(c)
	if err != nil {
		return err
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.done, MessageBody: &body})
	return err
}

// receive long-polls url until a message comes or ctx is done.
func (q *Queue) receive(ctx context.Context, url string) (types.Message, error) {
	for {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 1,
			WaitTimeSeconds:             q.wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
		if ctx.Err() != nil {
			return types.Message{}, ctx.Err()
		}
		if err != nil {
			return types.Message{}, err
		}
		if len(out.Messages) > 0 {
			return out.Messages[0], nil
		}
	}
}

// Receive returns the next task, hidden for the queue's visibility
// timeout.
func (q *Queue) Receive(ctx context.Context) (efsync.Delivery, error) {
	m, err := q.receive(ctx, q.tasks)
	if err != nil {
		return nil, err
	}
	t, err := efsync.DecodeTask(awssdk.ToString(m.Body))
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return &delivery{q: q, t: t, receipt: awssdk.ToString(m.ReceiptHandle), attempt: max(n, 1)}, err
}

// Completion returns the next completion, deleted from its queue. One
// whose delete fails is returned all the same: it comes again, and the
// leader counts each chunk once. One that can't be read is deleted too,
// and returned as an error matching efsync.ErrBadMessage.
func (q *Queue) Completion(ctx context.Context) (efsync.Completion, error) {
	m, err := q.receive(ctx, q.done)
	if err != nil {
		return efsync.Completion{}, err
	}
	c, derr := efsync.DecodeCompletion(awssdk.ToString(m.Body))
	// Deleted even if it can't be read: no one else would.
	_, err = q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.done, ReceiptHandle: m.ReceiptHandle})
	if derr != nil {
		return c, errors.Join(derr, err)
	}
	return c, nil
}

// delivery is a task as one worker received it.
type delivery struct {
	q       *Queue
	t       efsync.Task
	receipt string
	attempt int
}

func (d *delivery) Task() efsync.Task { return d.t }
func (d *delivery) Attempt() int      { return d.attempt }

// Extend hides the task for dur more, from now.
func (d *delivery) Extend(ctx context.Context, dur time.Duration) error {
	_, err := d.q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &d.q.tasks,
		ReceiptHandle: &d.receipt, VisibilityTimeout: int32((dur + time.Second - 1) / time.Second)})
	return stale(err)
}

// Done deletes the task.
func (d *delivery) Done(ctx context.Context) error {
	_, err := d.q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &d.q.tasks, ReceiptHandle: &d.receipt})
	return stale(err)
}

// stale marks err, if SQS says the receipt is no longer valid (the
// message was received again since, or deleted), as
// efsync.ErrStaleDelivery. SQS says so with ReceiptHandleIsInvalid, or,
// for a message another receipt holds now, InvalidParameterValue about
// the receipt handle.
func stale(err error) error {
	var inv *types.ReceiptHandleIsInvalid
	var ae smithy.APIError
	if errors.As(err, &inv) || (errors.As(err, &ae) && ae.ErrorCode() == "InvalidParameterValue" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "receipt")) {
		return fmt.Errorf("%w: %w", efsync.ErrStaleDelivery, err)
	}
	return err
}

// OpenQueue returns the Queue of the tasks queue url, and its completions
// queue DoneURL(url), with a client of cfg (its endpoint from
// AWS_ENDPOINT_URL_SQS, if set).
func OpenQueue(cfg awssdk.Config, url string) *Queue {
	return NewQueue(sqs.NewFromConfig(cfg), url, DoneURL(url))
}
