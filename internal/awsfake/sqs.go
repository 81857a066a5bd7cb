package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// SQS makes s a stateful SQS (JSON 1.0): CreateQueue, GetQueueUrl,
// SendMessage, ReceiveMessage (long polls, the ApproximateReceiveCount
// attribute), DeleteMessage and ChangeMessageVisibility, with visibility
// timeouts: a message received and neither deleted nor extended in time
// is delivered again. A DeleteMessage with the receipt of an earlier
// delivery does nothing, as SQS may. It returns the queues' state.
func (s *Server) SQS() *SQSState {
	q := &SQSState{url: s.URL, queues: map[string]*fakeQueue{}, again: map[string][]string{}}
	s.Handle("sqs:CreateQueue", q.create)
	s.Handle("sqs:GetQueueUrl", q.getURL)
	s.Handle("sqs:SendMessage", q.send)
	s.Handle("sqs:ReceiveMessage", q.receive)
	s.Handle("sqs:DeleteMessage", q.delete)
	s.Handle("sqs:ChangeMessageVisibility", q.change)
	return q
}

// SQSState is the queues of a fake SQS. It is safe for concurrent use.
type SQSState struct {
	url         string
	mu          sync.Mutex
	queues      map[string]*fakeQueue // by URL
	ids         int
	again       map[string][]string // by URL: bodies delivered a second time
	failDeletes map[string]int      // by URL: DeleteMessage calls to fail
}

// FailDeletes makes the next n DeleteMessage calls on the queue url fail
// with a 500 InternalError (the SDK tries each call up to 3 times).
func (q *SQSState) FailDeletes(url string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failDeletes == nil {
		q.failDeletes = map[string]int{}
	}
	q.failDeletes[url] = n
}

type fakeQueue struct {
	visibility time.Duration
	msgs       []*fakeMsg
}

type fakeMsg struct {
	id, body string
	hidden   time.Time
	receives int
}

// Redelivered returns the bodies of the messages of queue url delivered
// more than once so far, deleted since or not.
func (q *SQSState) Redelivered(url string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.again[url]...)
}

func str(c Call, k string) string { v, _ := c.Params[k].(string); return v }

func num(c Call, k string, def float64) float64 {
	if v, ok := c.Params[k].(float64); ok {
		return v
	}
	return def
}

func (q *SQSState) queue(c Call) (*fakeQueue, *APIError) {
	fq := q.queues[str(c, "QueueUrl")]
	if fq == nil {
		return nil, &APIError{400, "AWS.SimpleQueueService.NonExistentQueue", "no queue " + str(c, "QueueUrl")}
	}
	return fq, nil
}

func (q *SQSState) create(c Call) (any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	url := q.url + "/000000000000/" + str(c, "QueueName")
	if q.queues[url] == nil {
		vis := 30 * time.Second
		if attrs, ok := c.Params["Attributes"].(map[string]any); ok {
			if v, err := strconv.ParseFloat(fmt.Sprint(attrs["VisibilityTimeout"]), 64); err == nil {
				vis = time.Duration(v * float64(time.Second))
			}
		}
		q.queues[url] = &fakeQueue{visibility: vis}
	}
	return map[string]any{"QueueUrl": url}, nil
}

func (q *SQSState) getURL(c Call) (any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	url := q.url + "/000000000000/" + str(c, "QueueName")
	if q.queues[url] == nil {
		return nil, &APIError{400, "AWS.SimpleQueueService.NonExistentQueue", "no queue"}
	}
	return map[string]any{"QueueUrl": url}, nil
}

func md5Hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func (q *SQSState) send(c Call) (any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fq, err := q.queue(c)
	if err != nil {
		return nil, err
	}
	q.ids++
	m := &fakeMsg{id: fmt.Sprintf("msg-%d", q.ids), body: str(c, "MessageBody")}
	fq.msgs = append(fq.msgs, m)
	return map[string]any{"MessageId": m.id, "MD5OfMessageBody": md5Hex(m.body)}, nil
}

// receive long-polls for up to WaitTimeSeconds.
func (q *SQSState) receive(c Call) (any, *APIError) {
	until := time.Now().Add(time.Duration(num(c, "WaitTimeSeconds", 0) * float64(time.Second)))
	for {
		msgs, err := q.take(c)
		if err != nil || len(msgs) > 0 || time.Now().After(until) {
			return map[string]any{"Messages": msgs}, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// take hides and returns the visible messages, up to MaxNumberOfMessages.
func (q *SQSState) take(c Call) ([]any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fq, err := q.queue(c)
	if err != nil {
		return nil, err
	}
	vis := fq.visibility
	if v := num(c, "VisibilityTimeout", -1); v >= 0 {
		vis = time.Duration(v * float64(time.Second))
	}
	var out []any
	now := time.Now()
	for _, m := range fq.msgs {
		if len(out) >= int(num(c, "MaxNumberOfMessages", 1)) {
			break
		}
		if m.hidden.After(now) {
			continue
		}
		m.receives++
		if m.receives == 2 {
			q.again[str(c, "QueueUrl")] = append(q.again[str(c, "QueueUrl")], m.body)
		}
		m.hidden = now.Add(vis)
		out = append(out, map[string]any{"MessageId": m.id, "ReceiptHandle": fmt.Sprintf("%s#%d", m.id, m.receives),
			"Body": m.body, "MD5OfBody": md5Hex(m.body),
			"Attributes": map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)}})
	}
	return out, nil
}

// find returns the message of a receipt handle, and whether the handle
// is its latest.
func (fq *fakeQueue) find(receipt string) (int, bool) {
	for i, m := range fq.msgs {
		if fmt.Sprintf("%s#%d", m.id, m.receives) == receipt {
			return i, true
		}
	}
	return -1, false
}

func (q *SQSState) delete(c Call) (any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fq, err := q.queue(c)
	if err != nil {
		return nil, err
	}
	if url := str(c, "QueueUrl"); q.failDeletes[url] > 0 {
		q.failDeletes[url]--
		return nil, &APIError{500, "InternalError", "We encountered an internal error. Please try again."}
	}
	if i, ok := fq.find(str(c, "ReceiptHandle")); ok {
		fq.msgs = append(fq.msgs[:i], fq.msgs[i+1:]...)
	}
	return nil, nil
}

func (q *SQSState) change(c Call) (any, *APIError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fq, err := q.queue(c)
	if err != nil {
		return nil, err
	}
	i, ok := fq.find(str(c, "ReceiptHandle"))
	if !ok {
		return nil, &APIError{400, "InvalidParameterValue", "receipt handle has expired"}
	}
	fq.msgs[i].hidden = time.Now().Add(time.Duration(num(c, "VisibilityTimeout", 0) * float64(time.Second)))
	return nil, nil
}

// CreateQueue makes the queue name, whose messages stay hidden for
// visibility once received, and returns its URL: for tests whose SQS
// clients run in other processes.
func (q *SQSState) CreateQueue(name string, visibility time.Duration) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	url := q.url + "/000000000000/" + name
	if q.queues[url] == nil {
		q.queues[url] = &fakeQueue{visibility: visibility}
	}
	return url
}
