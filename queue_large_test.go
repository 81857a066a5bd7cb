package efsync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
)

// recordingQueue keeps the tasks published through it.
type recordingQueue struct {
	Queue
	mu    sync.Mutex
	tasks []Task
}

func (q *recordingQueue) Publish(ctx context.Context, t Task) error {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	q.mu.Unlock()
	return q.Queue.Publish(ctx, t)
}

// TestQueueLargeChunkByList: a chunk whose paths would not fit in an SQS
// message (256 KiB) is published as a List, its chunk file, and workers
// copy it all.
func TestQueueLargeChunkByList(t *testing.T) {
	base := testtree.TempDir(t)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	big := filepath.Join(src, "big")
	must(t, os.MkdirAll(big, 0o755))
	const files = 1200 // about 270 bytes each in base64: 320 KiB inline
	for i := range files {
		name := fmt.Sprintf("%04d-%s", i, strings.Repeat("n", 195))
		must(t, os.WriteFile(filepath.Join(big, name), []byte(name[:4]), 0o644))
	}
	q := &recordingQueue{Queue: NewMemQueue(time.Minute)}
	startWorkers(t, q, 2)
	rep, err := Sync(context.Background(), src, dst, WithQueue(q), MaxFiles(2*files), Workers(4))
	if err != nil || rep.Status != kpi.StatusSuccess {
		t.Fatalf("sync: %v, %v", err, rep)
	}
	exactCopy(t, src, dst)
	lists := 0
	for _, task := range q.tasks {
		body, err := EncodeTask(task)
		must(t, err)
		if len(body) >= 256<<10 {
			t.Errorf("task %d: a body of %d bytes, over SQS's 256 KiB", task.Chunk, len(body))
		}
		if task.List != "" && len(task.Paths) == 0 {
			lists++
		}
	}
	if lists == 0 {
		t.Errorf("no task of the %d published has a List and no Paths", len(q.tasks))
	}
}
