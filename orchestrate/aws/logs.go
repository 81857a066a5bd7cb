package aws

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LogPrefix starts the keys of the logs in the bucket:
// efsync-logs/<label>/<id>/<part>.log.
const LogPrefix = "efsync-logs/"

// partSize is how much of a log a writer holds before it puts a part.
const partSize = 8 << 20

// Logs is the orchestrate.LogStore on S3. S3 can't append, so each Open
// writes parts of its own, efsync-logs/<label>/<id>/<opened>-<rand>-<n>.log,
// which sort by the time of their Open: the log of a backup is its
// parts in key order. A writer puts a part when it holds 8 MiB, and on
// Close. It is safe for concurrent use.
type Logs struct {
	// config
	client *s3.Client
	bucket string
	label  string
	now    func() time.Time
}

// Open returns a writer of a new part of the log of id. Its writes are
// durable once Close returns nil.
func (l *Logs) Open(ctx context.Context, id string) (io.WriteCloser, error) {
	var b [4]byte
	rand.Read(b[:])
	base := fmt.Sprintf("%s%s/%s/%s-%s", LogPrefix, l.label, id, l.now().UTC().Format("20060102T150405.000000000Z"), hex.EncodeToString(b[:]))
	return &logPart{ctx: context.WithoutCancel(ctx), l: l, base: base}, nil
}

// Where returns the S3 URL of the folder of id's log parts.
func (l *Logs) Where(id string) string {
	return fmt.Sprintf("s3://%s/%s%s/%s/", l.bucket, LogPrefix, l.label, id)
}

// logPart is one Open's writer. The context of its Open is kept without
// its cancel: the log of a run that is being stopped must still be put.
type logPart struct {
	ctx  context.Context
	l    *Logs
	base string

	// state
	mu  sync.Mutex
	buf bytes.Buffer
	n   int
	err error
}

// Write buffers p, putting a part once 8 MiB are held.
func (w *logPart) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(p)
	if w.buf.Len() >= partSize {
		w.err = w.put()
	}
	return len(p), w.err
}

// Close puts what is held, if anything or if nothing was put yet.
func (w *logPart) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && (w.buf.Len() > 0 || w.n == 0) {
		w.err = w.put()
	}
	return w.err
}

// put puts the buffer as the next part.
func (w *logPart) put() error {
	key := fmt.Sprintf("%s-%04d.log", w.base, w.n)
	_, err := w.l.client.PutObject(w.ctx, &s3.PutObjectInput{
		Bucket:      awssdk.String(w.l.bucket),
		Key:         awssdk.String(key),
		Body:        bytes.NewReader(w.buf.Bytes()),
		ContentType: awssdk.String("application/x-ndjson"),
	})
	if err != nil {
		return fmt.Errorf("log %s: %w", key, err)
	}
	w.buf.Reset()
	w.n++
	return nil
}
