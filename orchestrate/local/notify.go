package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/efsync/efsync/orchestrate"
)

// Webhook is an orchestrate.Notifier that POSTs each notice, as JSON, to
// URL. Any status but 2xx is an error. It is safe for concurrent use.
type Webhook struct {
	URL string
	// Client defaults to one with a 30 s timeout.
	Client *http.Client
}

// Notify POSTs n.
func (w Webhook) Notify(ctx context.Context, n orchestrate.Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: %s: %s", w.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Command is an orchestrate.Notifier that runs a command per notice: the
// notice as JSON on its stdin, and EFSYNC_ID, EFSYNC_LABEL,
// EFSYNC_STATUS, EFSYNC_SUBJECT and EFSYNC_LOG in its environment. A
// non-zero exit is an error. It is safe for concurrent use.
type Command struct {
	Argv []string
}

// Notify runs the command for n.
func (c Command) Notify(ctx context.Context, n orchestrate.Notice) error {
	if len(c.Argv) == 0 {
		return errors.New("notice command: empty")
	}
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = append(os.Environ(), "EFSYNC_ID="+n.ID, "EFSYNC_LABEL="+n.Label,
		"EFSYNC_STATUS="+string(n.Status), "EFSYNC_SUBJECT="+n.Subject, "EFSYNC_LOG="+n.Log)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("notice command %s: %w: %s", c.Argv[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Notifiers sends each notice through all of its notifiers, even when
// one fails; the errors are joined.
type Notifiers []orchestrate.Notifier

// Notify sends n through each notifier.
func (ns Notifiers) Notify(ctx context.Context, n orchestrate.Notice) error {
	var errs []error
	for _, x := range ns {
		errs = append(errs, x.Notify(ctx, n))
	}
	return errors.Join(errs...)
}
