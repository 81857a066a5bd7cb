package awstest

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestDynalite(t *testing.T) {
	d, err := StartDynalite(context.Background())
	url := NeedDynalite(t, d, err)
	defer d.Close()
	req, _ := http.NewRequest("POST", url, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Unsigned: dynalite answers, refusing it, which shows it serves.
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400 for an unsigned request", resp.StatusCode)
	}
}
