package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDecode decodes AWS's documented event shapes (testdata/*.json) and
// the direct payloads into requests, and refuses what the handler is not
// sent with a one-line error.
func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		file    string // under testdata; else raw
		raw     string
		want    request
		wantErr string // a part of the error; "" for none
	}{
		{name: "scheduled start", file: "scheduled.json", want: startReq{At: time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)}},
		{name: "window end", file: "window_end.json", want: windowEndReq{ID: "20300301T020000.000Z-1a2b3c"}},
		{name: "terminate lifecycle action", file: "terminate_action.json", want: terminatingReq{Group: "efsync-agents",
			Hook: "efsync-terminate", Instance: "i-0598c7d356eba48d7", Token: "630aa23f-48eb-45e7-aba6-799ea6093a0f"}},
		{name: "terminate successful", file: "terminate_successful.json", want: terminatedReq{Group: "efsync-agents",
			Instance: "i-0598c7d356eba48d7", Cause: "At 2030-03-01T04:45:00Z a user request update of AutoScalingGroup constraints to min: 0, max: 1, desired: 0 changing the desired capacity from 1 to 0."}},
		{name: "restore", file: "restore.json", want: restoreReq{ID: "20300301T020000.000Z-1a2b3c", Path: "projects/alpha", Target: "restored/alpha-20300302"}},
		{name: "restore of a whole snapshot", raw: `{"restore":{"id":"x1","target":"r"}}`, want: restoreReq{ID: "x1", Path: ".", Target: "r"}},
		{name: "launch successful is not ours", file: "launch_successful.json", wantErr: `"EC2 Instance Launch Successful" from "aws.autoscaling": not one`},
		{name: "scheduled event from another source", raw: `{"detail-type":"Scheduled Event","source":"aws.s3","time":"2030-03-01T02:00:00Z"}`, wantErr: "not one this handler is sent"},
		{name: "scheduled event without time", raw: `{"detail-type":"Scheduled Event","source":"aws.events"}`, wantErr: "no time"},
		{name: "lifecycle action without instance", raw: `{"detail-type":"EC2 Instance-terminate Lifecycle Action","source":"aws.autoscaling","detail":{"AutoScalingGroupName":"g"}}`, wantErr: "no AutoScalingGroupName or EC2InstanceId"},
		{name: "launch transition", raw: `{"detail-type":"EC2 Instance-terminate Lifecycle Action","source":"aws.autoscaling","detail":{"AutoScalingGroupName":"g","EC2InstanceId":"i-1","LifecycleHookName":"h","LifecycleTransition":"autoscaling:EC2_INSTANCE_LAUNCHING"}}`, wantErr: "want autoscaling:EC2_INSTANCE_TERMINATING"},
		{name: "window end, empty id", raw: `{"efsyncWindowEnd":""}`, wantErr: "backup id \"\""},
		{name: "window end, a path", raw: `{"efsyncWindowEnd":"../x"}`, wantErr: "backup id \"../x\""},
		{name: "window end with state", raw: `{"efsyncWindowEnd":"x1","deadline":"2030-03-01T05:00:00Z"}`, wantErr: "unknown field \"deadline\""},
		{name: "both", raw: `{"efsyncWindowEnd":"x1","restore":{"id":"x1","target":"r"}}`, wantErr: "together"},
		{name: "empty object", raw: `{}`, wantErr: "want an EventBridge event"},
		{name: "not JSON", raw: `hello`, wantErr: "not a JSON object"},
		{name: "restore without target", raw: `{"restore":{"id":"x1","path":"a"}}`, wantErr: "target \"\""},
		{name: "restore to an absolute target", raw: `{"restore":{"id":"x1","target":"/etc"}}`, wantErr: "target \"/etc\""},
		{name: "restore out of the source", raw: `{"restore":{"id":"x1","target":"a/../../b"}}`, wantErr: "target \"a/../../b\""},
		{name: "restore onto the source's root", raw: `{"restore":{"id":"x1","target":"./"}}`, wantErr: "target \"./\""},
		{name: "restore of a path out of the snapshot", raw: `{"restore":{"id":"x1","path":"a/../../b","target":"r"}}`, wantErr: "path \"a/../../b\""},
		{name: "restore without id", raw: `{"restore":{"target":"r"}}`, wantErr: "restore: backup id \"\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.file != "" {
				var err error
				if raw, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := decode(raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("decode: %v (%+v), want one line with %q", err, got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("decode (-want +got):\n%s", d)
			}
		})
	}
}
