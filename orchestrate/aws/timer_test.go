package aws

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/orchestrate"
)

// parseScheduleAt returns the time a scheduleAt expression fires at,
// refusing what EventBridge would: our own check of our expressions, as
// the fake takes any.
func parseScheduleAt(expr string) (time.Time, error) {
	var mi, h, d, mo, y int
	n, err := fmt.Sscanf(expr, "cron(%d %d %d %d ? %d)", &mi, &h, &d, &mo, &y)
	if err != nil || n != 5 || fmt.Sprintf("cron(%d %d %d %d ? %d)", mi, h, d, mo, y) != expr {
		return time.Time{}, fmt.Errorf("schedule %q: not cron(m h d mon ? y)", expr)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, 0, 0, time.UTC)
	if t.Minute() != mi || t.Hour() != h || t.Day() != d || int(t.Month()) != mo {
		return time.Time{}, fmt.Errorf("schedule %q: no such time", expr)
	}
	return t, nil
}

func TestScheduleAt(t *testing.T) {
	for _, tt := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"utc", time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC), "cron(0 3 1 1 ? 2030)"},
		{"truncated", time.Date(2030, 12, 31, 23, 59, 59, 999, time.UTC), "cron(59 23 31 12 ? 2030)"},
		{"zone", time.Date(2030, 6, 1, 4, 30, 0, 0, time.FixedZone("CEST", 2*3600)), "cron(30 2 1 6 ? 2030)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := scheduleAt(tt.at)
			if got != tt.want {
				t.Errorf("scheduleAt = %s, want %s", got, tt.want)
			}
			back, err := parseScheduleAt(got)
			if err != nil || !back.Equal(tt.at.Truncate(time.Minute)) {
				t.Errorf("parsed back: %s, %v; want %s", back, err, tt.at.Truncate(time.Minute))
			}
		})
	}
	for _, bad := range []string{"rate(5 minutes)", "cron(0 3 31 2 ? 2030)", "cron(0 3 1 1 * 2030)"} {
		if _, err := parseScheduleAt(bad); err == nil {
			t.Errorf("parseScheduleAt(%q) took it", bad)
		}
	}
}

// TestTimer: Set makes a rule that fires once at the time asked, whose
// target's input is the id alone (the seed put the job's state there,
// and a new Lambda lost it); Cancel removes target and rule, and is
// harmless for a rule gone already.
func TestTimer(t *testing.T) {
	e := newEnv(t, false)
	id := "20300101T020000.000Z-abcdef"
	at := time.Date(2030, 1, 1, 2, 55, 0, 0, time.UTC)
	if err := e.b.Timer.Set(t.Context(), id, at); err != nil {
		t.Fatal(err)
	}
	rules := e.fake.Calls("events:PutRule")
	if len(rules) != 1 || rules[0].Params["Name"] != "efsync-"+id || rules[0].Params["State"] != "ENABLED" {
		t.Fatalf("PutRule: %v", rules)
	}
	if when, err := parseScheduleAt(rules[0].Param("ScheduleExpression")); err != nil || !when.Equal(at) {
		t.Errorf("schedule %q: %s, %v; want %s", rules[0].Param("ScheduleExpression"), when, err, at)
	}
	targets := e.fake.Calls("events:PutTargets")
	if len(targets) != 1 {
		t.Fatalf("PutTargets: %v", targets)
	}
	tg := targets[0].Params["Targets"].([]any)[0].(map[string]any)
	if tg["Arn"] != e.res.TimerTarget {
		t.Errorf("target %v, want %s", tg["Arn"], e.res.TimerTarget)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(tg["Input"].(string)), &payload); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"efsyncWindowEnd": id}, payload); d != "" {
		t.Errorf("the payload holds more than the id (-want +got):\n%s", d)
	}
	if ev, ok := ParseTimerEvent([]byte(tg["Input"].(string))); !ok || ev != (orchestrate.WindowEnd{ID: id}) {
		t.Errorf("ParseTimerEvent = %v, %v", ev, ok)
	}
	if _, ok := ParseTimerEvent([]byte(`{"detail-type":"Scheduled Event"}`)); ok {
		t.Error("ParseTimerEvent took another event")
	}

	if err := e.b.Timer.Cancel(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	gone := &awsfake.APIError{Status: 400, Code: "ResourceNotFoundException", Message: "Rule efsync-" + id + " does not exist."}
	e.fake.Handle("events:RemoveTargets", func(awsfake.Call) (any, *awsfake.APIError) { return nil, gone })
	if err := e.b.Timer.Cancel(t.Context(), id); err != nil {
		t.Errorf("cancel again: %v", err)
	}
	var ops []string
	for _, c := range e.fake.Calls("events:RemoveTargets", "events:DeleteRule") {
		ops = append(ops, c.Op()+" "+c.Param("Rule")+c.Param("Name"))
	}
	want := []string{"events:RemoveTargets efsync-" + id, "events:DeleteRule efsync-" + id, "events:RemoveTargets efsync-" + id}
	if d := cmp.Diff(want, ops); d != "" {
		t.Errorf("cancel calls (-want +got):\n%s", d)
	}
}
