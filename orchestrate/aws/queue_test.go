package aws

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// newSQSQueue returns a Queue on a fake SQS, its state, and its tasks URL.
func newSQSQueue(t *testing.T, visibility string) (*Queue, *awsfake.SQSState, string) {
	t.Helper()
	fake := awsfake.Start(t)
	state := fake.SQS()
	cfg := awssdk.Config{Region: "us-east-1", Credentials: awssdk.CredentialsProviderFunc(
		func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		})}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = awssdk.String(fake.URL) })
	var urls []string
	for _, name := range []string{"tasks", "tasks-done"} {
		out, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: awssdk.String(name),
			Attributes: map[string]string{"VisibilityTimeout": visibility}})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, *out.QueueUrl)
	}
	if urls[1] != DoneURL(urls[0]) {
		t.Fatalf("done queue %s, want %s", urls[1], DoneURL(urls[0]))
	}
	return NewQueue(client, urls[0], urls[1]), state, urls[0]
}

func TestSQSQueueRedeliversDeadWorkersTask(t *testing.T) {
	base, src, dst := smallTree(t, 63)
	q, state, url := newSQSQueue(t, "2")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { // takes a task and dies: never deletes it, never extends it
		if _, err := q.Receive(ctx); err != nil {
			t.Error(err)
			return
		}
		for range 3 {
			wg.Go(func() {
				if err := efsync.Work(ctx, q, efsync.Workers(2), func(o *efsync.Options) { o.Heartbeat = 500 * time.Millisecond }); err != nil {
					t.Error(err)
				}
			})
		}
	})
	rep, err := efsync.Sync(context.Background(), src, dst, efsync.WithQueue(q), efsync.Delete(), efsync.MaxFiles(16),
		efsync.Workers(2), efsync.StateDir(filepath.Join(base, "state")))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	diffs, err := testtree.Compare(context.Background(), src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("comparator: %s", d)
	}
	if again := state.Redelivered(url); len(again) != 1 {
		t.Errorf("%d tasks delivered again, want 1", len(again))
	}
	seen, retried := map[int]bool{}, 0
	for _, p := range rep.Partitions {
		if seen[p.ID] {
			t.Errorf("partition %d counted twice", p.ID)
		}
		seen[p.ID] = true
		if p.Attempts > 1 {
			retried++
		}
	}
	if len(seen) < 3 || retried != 1 {
		t.Errorf("%d partitions, %d retried; want at least 3, and 1", len(seen), retried)
	}
}

// TestSQSQueueSurvivesBadMessages: a body that is no task in the tasks
// queue, and one that is no completion in the completions queue, stop
// neither the workers nor the leader: the run ends exact.
func TestSQSQueueSurvivesBadMessages(t *testing.T) {
	base, src, dst := smallTree(t, 64)
	q, _, url := newSQSQueue(t, "2")
	for _, u := range []string{url, DoneURL(url)} {
		if _, err := q.client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: awssdk.String(u),
			MessageBody: awssdk.String(`{"run": 7, "paths": "not a list"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range 2 {
		wg.Go(func() {
			if err := efsync.Work(ctx, q, efsync.Workers(2)); err != nil {
				t.Error(err)
			}
		})
	}
	rep, err := efsync.Sync(context.Background(), src, dst, efsync.WithQueue(q), efsync.Delete(), efsync.MaxFiles(16),
		efsync.Workers(2), efsync.StateDir(filepath.Join(base, "state")))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	testtree.RequireExact(t, src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
}

// TestSQSCompletionDeleteFails: a completion whose delete fails is taken
// all the same, and its second delivery is counted once: the run ends,
// exact. The error used to end the leader's run.
func TestSQSCompletionDeleteFails(t *testing.T) {
	base, src, dst := smallTree(t, 65)
	q, state, url := newSQSQueue(t, "1")
	state.FailDeletes(DoneURL(url), 3) // one SDK call, its retries included
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		if err := efsync.Work(ctx, q, efsync.Workers(2)); err != nil {
			t.Error(err)
		}
	})
	rep, err := efsync.Sync(context.Background(), src, dst, efsync.WithQueue(q), efsync.Delete(), efsync.MaxFiles(64),
		efsync.Workers(2), efsync.StateDir(filepath.Join(base, "state")))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	testtree.RequireExact(t, src, dst, testtree.CompareOptions{IgnoreOwner: os.Geteuid() != 0})
	if n := int64(len(rep.Partitions)); n == 0 || rep.Files.Created == 0 {
		t.Errorf("%d partitions, %d files created: the test shows nothing", n, rep.Files.Created)
	}
}

// smallTree builds testtree.Small(seed) in base/src, and returns base,
// src and base/dst.
func smallTree(t *testing.T, seed int64) (base, src, dst string) {
	t.Helper()
	base = testtree.TempDir(t)
	src, dst = filepath.Join(base, "src"), filepath.Join(base, "dst")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	o := testtree.Small(seed)
	o.HugeSparse = false
	if _, err := testtree.Plan(o).Build(src); err != nil {
		t.Fatal(err)
	}
	return base, src, dst
}
