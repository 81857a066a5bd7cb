package latencyfs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// newClient returns an HTTP client that reaches the control socket sock,
// whatever the host in the URL.
func newClient(sock string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		},
	}
}

// Counts returns what reached the file system since the start or the last
// Reset. Safe to call concurrently with file system use; requests in
// flight may or may not be counted.
func (m *Mount) Counts() (Counts, error) {
	var c Counts
	err := m.call(http.MethodGet, "/counts", nil, &c)
	return c, err
}

// Reset zeroes the counts.
func (m *Mount) Reset() error { return m.call(http.MethodPost, "/reset", nil, nil) }

// SetFaults replaces the faults (nil removes them all) and restarts the
// Fault.Times counts. Requests already waiting keep their old fault.
func (m *Mount) SetFaults(faults []Fault) error {
	if faults == nil {
		faults = []Fault{} // JSON null would decode, but say what we mean
	}
	return m.call(http.MethodPut, "/faults", faults, nil)
}

// SetDelay changes the metadata and data delays of requests that start
// afterwards.
func (m *Mount) SetDelay(meta, data time.Duration) error {
	return m.call(http.MethodPut, "/delay", delays{Delay: meta, DataDelay: data}, nil)
}

// call sends in as JSON (if not nil) and decodes the answer into out (if
// not nil).
func (m *Mount) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("latencyfs %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://latencyfs"+path, body)
	if err != nil {
		return fmt.Errorf("latencyfs %s %s: %w", method, path, err)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("latencyfs %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("latencyfs %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("latencyfs %s %s: %w", method, path, err)
	}
	return nil
}
