package efsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/efsync/efsync/kpi"
)

// Queue carries a run's chunks from the leader, the Sync that crawls, to
// workers, each running Work, maybe on other hosts, and their completions
// back: like fpsync's -w workers, fed by a queue rather than over ssh.
//
// A Queue MUST be safe for concurrent use. Delivery is at least once:
// a task whose Delivery is neither Done nor extended before its
// visibility timeout ends MUST be delivered again (its worker died), and
// a completion MAY arrive more than once; the leader counts each chunk
// once. MemQueue is the in-process backend; orchestrate/aws adds SQS.
type Queue interface {
	// Publish queues t for a worker.
	Publish(ctx context.Context, t Task) error
	// Receive blocks until a task is visible, and hides it from other
	// workers for the queue's visibility timeout. It returns ctx's error
	// when ctx is done, and then SHOULD take no task: a worker that stops
	// would hide it from the others for a visibility timeout.
	Receive(ctx context.Context) (Delivery, error)
	// Report sends a completion to the leader.
	Report(ctx context.Context, c Completion) error
	// Completion blocks until a completion arrives, and returns it; it
	// returns ctx's error when ctx is done.
	Completion(ctx context.Context) (Completion, error)
}

// ErrBadMessage is returned by DecodeTask and DecodeCompletion, and so by
// a Queue's Receive and Completion, for a message that is not one: a
// worker leaves such a task to the queue (with SQS, its redrive policy
// moves it aside after a few receives), the leader skips such a
// completion; neither stops.
var ErrBadMessage = errors.New("not an efsync message")

// Delivery is one task received from a Queue.
type Delivery interface {
	// Task is what to copy.
	Task() Task
	// Attempt counts the deliveries of this task: 1 the first time.
	Attempt() int
	// Extend hides the task from other workers for d more, from now.
	Extend(ctx context.Context, d time.Duration) error
	// Done removes the task from the queue: it is copied.
	Done(ctx context.Context) error
}

// Task is one chunk of a run, for a worker to copy from Src to Dst: the
// paths as every host mounts them.
type Task struct {
	Run string `json:"run"`
	// Job is the leader's Options.Job: workers of one job drop others'.
	Job   string `json:"job,omitempty"`
	Chunk int    `json:"chunk"`
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	// Paths are the chunk's entries, relative to Src. They are bytes, not
	// strings, so that JSON carries them in base64: a name need not be
	// UTF-8, and SQS rejects what is not.
	Paths [][]byte `json:"paths,omitempty"`
	// List, instead of Paths for a large chunk, names a file of
	// NUL-terminated paths in the state directory, which every worker
	// reads (never inside the tree being mirrored).
	List string `json:"list,omitempty"`
	// Copy is how the leader's run copies: each worker copies alike.
	Copy TaskCopy `json:"copy,omitzero"`
}

// TaskCopy holds the leader's options that change what a worker writes
// (see transfer.Options), so that a chunk is copied as the leader would
// have: a backup's workers hard-link what its parent snapshot has.
type TaskCopy struct {
	// LinkDest are the reference trees, absolute.
	LinkDest []string `json:"linkDest,omitempty"`
	// RefGroups names a file of NUL-terminated paths, the members of the
	// reference's hard-link groups (transfer.Options.RefGroups), in the
	// repository's state; "" for none.
	RefGroups   string `json:"refGroups,omitempty"`
	Checksum    bool   `json:"checksum,omitempty"`
	NoXattrs    bool   `json:"noXattrs,omitempty"`
	HugeMin     int64  `json:"hugeMin,omitempty"`
	HugeWorkers int    `json:"hugeWorkers,omitempty"`
	HugePiece   int64  `json:"hugePiece,omitempty"`
	// SrcIno is the inode number of Src's root as the leader saw it, 0
	// if unknown. NFS gives every client the server's numbers, so a
	// worker whose Src is another tree, such as the empty mount point of
	// a file system it has not mounted, refuses the task instead of
	// finding every entry vanished.
	SrcIno uint64 `json:"srcIno,omitempty"`
	// Sums, if set, is the directory (in the leader's run state) where
	// a worker writes what its copy learnt of each entry for the
	// leader's manifest, and names the file in its Completion (see
	// queue_sums.go).
	Sums string `json:"sums,omitempty"`
}

// Completion is what a worker reports of a task it copied.
type Completion struct {
	Run     string `json:"run"`
	Chunk   int    `json:"chunk"`
	Attempt int    `json:"attempt"` // the Delivery's
	Worker  string `json:"worker,omitempty"`
	// Failed are the paths that failed, as in Task, as many as fit;
	// FailedTotal counts them all.
	Failed      [][]byte `json:"failed,omitempty"`
	FailedTotal int64    `json:"failedTotal,omitempty"`
	// Err, if set, says why the worker could not copy the chunk at all
	// (its source was not the leader's tree, its list was out of reach):
	// every entry of it failed.
	Err string `json:"err,omitempty"`
	// Fatal says Err stops the run, as it would stop one copier: the
	// destination is full, or read-only.
	Fatal bool `json:"fatal,omitempty"`
	// Files and Bytes are what the worker's copy of the chunk counted:
	// the leader adds those of each chunk's first completion to its own.
	Files kpi.FileCounts `json:"files"`
	Bytes kpi.ByteCounts `json:"bytes"`
	// Errors are the errors the worker's copy of the chunk kept, up to
	// its Options.MaxErrors, and ErrorCounts all it counted: the leader
	// books those of each chunk's first completion, so that its report
	// tells why an entry failed, and how many did.
	Errors      []TaskError     `json:"errors,omitempty"`
	ErrorCounts kpi.ErrorCounts `json:"errorCounts,omitzero"`
	// Vanished are the paths the worker found gone from the source, as
	// many as it kept, of VanishedTotal.
	Vanished      [][]byte `json:"vanished,omitempty"`
	VanishedTotal int64    `json:"vanishedTotal,omitempty"`
	// Sums is the name of the sums file the worker wrote in the task's
	// TaskCopy.Sums directory, if it asked for one.
	Sums string `json:"sums,omitempty"`
}

// TaskError is a kpi.ErrorRecord as a Completion carries it: its path in
// bytes, as in Task, for the same reason.
type TaskError struct {
	Path    []byte    `json:"path"`
	Class   kpi.Class `json:"class"`
	Message string    `json:"message"`
}

// taskErrors returns rs as a Completion carries them.
func taskErrors(rs []kpi.ErrorRecord) []TaskError {
	if len(rs) == 0 {
		return nil
	}
	out := make([]TaskError, len(rs))
	for i, r := range rs {
		out[i] = TaskError{Path: []byte(r.Path), Class: r.Class, Message: r.Message}
	}
	return out
}

// record returns e as kpi keeps it.
func (e TaskError) record() kpi.ErrorRecord {
	return kpi.ErrorRecord{Path: string(e.Path), Class: e.Class, Message: e.Message}
}

// maxInline is the largest encoded task sent whole; larger ones refer to
// their chunk file. SQS takes 256 KiB per message.
const maxInline = 192 << 10

// EncodeTask returns t as a message body: JSON, every path in base64.
func EncodeTask(t Task) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode task %d: %w", t.Chunk, err)
	}
	return string(b), nil
}

// DecodeTask returns the Task of a message body that EncodeTask wrote.
func DecodeTask(body string) (Task, error) {
	var t Task
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return t, fmt.Errorf("decode task: %w: %w", ErrBadMessage, err)
	}
	return t, nil
}

// EncodeCompletion returns c as a message body.
func EncodeCompletion(c Completion) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode completion %d: %w", c.Chunk, err)
	}
	return string(b), nil
}

// DecodeCompletion returns the Completion of a message body.
func DecodeCompletion(body string) (Completion, error) {
	var c Completion
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fmt.Errorf("decode completion: %w: %w", ErrBadMessage, err)
	}
	return c, nil
}

// paths returns ps as strings.
func paths(ps [][]byte) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// bytesOf returns ps as byte slices.
func bytesOf(ps []string) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = []byte(p)
	}
	return out
}
