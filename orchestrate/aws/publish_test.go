package aws

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// TestNotifier: one Publish to the topic, the subject as SNS takes it,
// the notice as JSON.
func TestNotifier(t *testing.T) {
	e := newEnv(t, false)
	n := orchestrate.Notice{Subject: "efsync backup daily 20300101T020000.000Z-abcdef: incomplete (stopped — window)",
		ID: "20300101T020000.000Z-abcdef", Label: "daily", Status: kpi.StatusIncomplete, Reason: "stopped", Start: e.now,
		Log: "s3://b/efsync-logs/daily/x/"}
	if err := e.b.Notifier.Notify(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	calls := e.fake.Calls("sns:Publish")
	if len(calls) != 1 {
		t.Fatalf("%d Publish, want 1", len(calls))
	}
	p := calls[0]
	if p.Param("TopicArn") != e.res.Topic {
		t.Errorf("topic %q", p.Param("TopicArn"))
	}
	if want := "efsync backup daily 20300101T020000.000Z-abcdef: incomplete (stopped ? window)"; p.Param("Subject") != want {
		t.Errorf("subject %q, want %q", p.Param("Subject"), want)
	}
	var got orchestrate.Notice
	if err := json.Unmarshal([]byte(p.Param("Message")), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(n, got); d != "" {
		t.Errorf("message (-sent +got):\n%s", d)
	}
	if long := snsSubject(strings.Repeat("x", 150)); len(long) != 100 {
		t.Errorf("a long subject is %d characters", len(long))
	}
}

// TestMetrics: one PutMetricData of the record's KPIs, converted from its
// kpi.Report, in the namespace, with the dimension Label, at its stop.
func TestMetrics(t *testing.T) {
	e := newEnv(t, false)
	rec := fullRecord(e.now)
	if err := e.b.Metrics.Publish(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	calls := e.fake.Calls("cloudwatch:PutMetricData")
	if len(calls) != 1 || calls[0].Params["Namespace"] != e.res.Namespace {
		t.Fatalf("PutMetricData: %v", calls)
	}
	got := map[string]float64{}
	for _, d := range calls[0].Params["MetricData"].([]any) {
		m := d.(map[string]any)
		if dims := fmt.Sprint(m["Dimensions"]); dims != "[map[Name:Label Value:daily]]" {
			t.Errorf("%v: dimensions %s", m["MetricName"], dims)
		}
		if ts, _ := m["Timestamp"].(time.Time); !ts.Equal(rec.Stop) {
			t.Errorf("%v: timestamp %v, want %s", m["MetricName"], m["Timestamp"], rec.Stop)
		}
		got[m["MetricName"].(string)] = m["Value"].(float64)
	}
	want := map[string]float64{"NumberOfFiles": 1200, "NumberOfFilesTransferred": 42, "TotalFileSize": 5 << 30,
		"TotalTransferredFileSize": 7 << 20, "FilesFailed": 2, "Duration": 2520, "Success": 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("metrics (-want +got):\n%s", d)
	}
}

// TestLogs: each Open writes a part of its own under
// efsync-logs/<label>/<id>/, durable on Close; the parts sort in the
// order of their Opens; Where names the folder.
func TestLogs(t *testing.T) {
	e := newEnv(t, false)
	id := "20300101T020000.000Z-abcdef"
	for i, line := range []string{"first\n", "second\n"} {
		w, err := e.b.Logs.Open(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, line)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		e.now = e.now.Add(time.Duration(i+1) * time.Second)
	}
	prefix := "efsync-logs/daily/" + id + "/"
	keys, text := e.objects(t, prefix)
	if len(keys) != 2 || text != "first\nsecond\n" {
		t.Errorf("objects %v with %q, want two parts, first then second", keys, text)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, ".log") {
			t.Errorf("key %s", k)
		}
	}
	if w := e.b.Logs.Where(id); w != "s3://"+e.res.Bucket+"/"+prefix {
		t.Errorf("Where = %s", w)
	}
}
