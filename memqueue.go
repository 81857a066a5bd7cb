package efsync

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStaleDelivery is returned by Delivery.Extend and Done when the task
// was delivered again since: the visibility timeout passed first.
var ErrStaleDelivery = errors.New("queue: delivery is stale: the task was delivered again")

// MemQueue is the in-process Queue: workers are goroutines of the
// leader's process. Like SQS, it hides a received task for its visibility
// timeout, and delivers it again when that passes before Done. Messages
// go through EncodeTask, as they would over the wire. It is safe for
// concurrent use; it holds no goroutine.
type MemQueue struct {
	// config
	visibility time.Duration

	// state
	mu          sync.Mutex
	wake        chan struct{} // closed and replaced when a message arrives
	tasks       []*memMsg     // in publish order; removed by Done
	completions []string
}

type memMsg struct {
	body     string
	hidden   time.Time // visible again at this time
	receipts int       // deliveries so far: a Delivery holds its number
}

// NewMemQueue returns an empty MemQueue whose received tasks stay hidden
// for visibility.
func NewMemQueue(visibility time.Duration) *MemQueue {
	return &MemQueue{visibility: visibility, wake: make(chan struct{})}
}

// Publish queues t.
func (q *MemQueue) Publish(ctx context.Context, t Task) error {
	body, err := EncodeTask(t)
	if err != nil {
		return err
	}
	q.mu.Lock()
	q.tasks = append(q.tasks, &memMsg{body: body})
	q.signal()
	q.mu.Unlock()
	return ctx.Err()
}

// signal wakes the waiting receivers; q.mu is held.
func (q *MemQueue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Receive returns the first visible task, waiting for one.
func (q *MemQueue) Receive(ctx context.Context) (Delivery, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err // first: a worker that stops takes no task
		}
		q.mu.Lock()
		now, next := time.Now(), time.Duration(0)
		for _, m := range q.tasks {
			if wait := m.hidden.Sub(now); wait > 0 {
				if next == 0 || wait < next {
					next = wait
				}
				continue
			}
			m.hidden, m.receipts = now.Add(q.visibility), m.receipts+1
			d := &memDelivery{q: q, m: m, receipt: m.receipts}
			q.mu.Unlock()
			t, err := DecodeTask(m.body)
			d.t = t
			return d, err
		}
		wake := q.wake
		q.mu.Unlock()
		if next == 0 {
			next = time.Hour
		}
		timer := time.NewTimer(next)
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
		timer.Stop()
	}
}

// Report queues c for the leader.
func (q *MemQueue) Report(ctx context.Context, c Completion) error {
	body, err := EncodeCompletion(c)
	if err != nil {
		return err
	}
	q.mu.Lock()
	q.completions = append(q.completions, body)
	q.signal()
	q.mu.Unlock()
	return ctx.Err()
}

// Completion returns the oldest completion, waiting for one.
func (q *MemQueue) Completion(ctx context.Context) (Completion, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Completion{}, err
		}
		q.mu.Lock()
		if len(q.completions) > 0 {
			body := q.completions[0]
			q.completions = q.completions[1:]
			q.mu.Unlock()
			return DecodeCompletion(body)
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return Completion{}, ctx.Err()
		}
	}
}

// memDelivery is a MemQueue task as one worker received it.
type memDelivery struct {
	q       *MemQueue
	m       *memMsg
	t       Task
	receipt int
}

func (d *memDelivery) Task() Task   { return d.t }
func (d *memDelivery) Attempt() int { return d.receipt }

// Extend hides the task for dur more, unless it was delivered again.
func (d *memDelivery) Extend(ctx context.Context, dur time.Duration) error {
	d.q.mu.Lock()
	defer d.q.mu.Unlock()
	if d.m.receipts != d.receipt {
		return ErrStaleDelivery
	}
	d.m.hidden = time.Now().Add(dur)
	return ctx.Err()
}

// Done removes the task, unless it was delivered again.
func (d *memDelivery) Done(ctx context.Context) error {
	d.q.mu.Lock()
	defer d.q.mu.Unlock()
	if d.m.receipts != d.receipt {
		return ErrStaleDelivery
	}
	for i, m := range d.q.tasks {
		if m == d.m {
			d.q.tasks = append(d.q.tasks[:i], d.q.tasks[i+1:]...)
			break
		}
	}
	return ctx.Err()
}
