package latencyfs

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last max bytes written to it: the child's stderr, for
// error messages. It is safe for concurrent use.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// readyWatch is the child's stdout: it closes ready when the ready line
// ("ready SOCKET") arrives, after setting sock. Written only by the exec
// package's copying goroutine; sock may be read once ready is closed.
type readyWatch struct {
	ready chan struct{}
	sock  string
	buf   []byte
	seen  bool
}

func newReadyWatch() *readyWatch { return &readyWatch{ready: make(chan struct{})} }

func (w *readyWatch) Write(p []byte) (int, error) {
	if w.seen {
		return len(p), nil // ignore the rest
	}
	w.buf = append(w.buf, p...)
	for {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		w.buf = rest
		if sock, ok := strings.CutPrefix(string(line), readyLine+" "); ok {
			w.sock, w.seen, w.buf = sock, true, nil
			close(w.ready)
			return len(p), nil
		}
	}
}
