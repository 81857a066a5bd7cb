package aws_test

import (
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	efsyncaws "github.com/efsync/efsync/orchestrate/aws"
)

// ExampleNew makes the backends of a stack, as the orchestrator Lambda
// does at its cold start, and reads a timer's event back. Nothing is
// contacted before the first event is handled.
func ExampleNew() {
	cfg := awssdk.Config{Region: "us-east-1"} // in a Lambda: efsyncaws.LoadConfig(ctx)
	b, err := efsyncaws.New(cfg, efsyncaws.Resources{
		Group: "efsync-agents", LifecycleHook: "efsync-terminate",
		Table: "efsync-backups", Bucket: "efsync-logs-123456789012", Topic: "arn:aws:sns:us-east-1:123456789012:efsync",
		Namespace: "efsync", TimerTarget: "arn:aws:lambda:us-east-1:123456789012:function:efsync-orchestrator",
		AgentPath: "/usr/local/bin/agent", TTL: 90 * 24 * time.Hour,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Logs.Where("20300101T020000.000Z-abcdef"))
	ev, ok := efsyncaws.ParseTimerEvent([]byte(`{"efsyncWindowEnd":"20300101T020000.000Z-abcdef"}`))
	fmt.Println(ev.ID, ok)
	_, err = efsyncaws.New(cfg, efsyncaws.Resources{Group: "g"})
	fmt.Println(err != nil)
	// Output:
	// s3://efsync-logs-123456789012/efsync-logs/daily/20300101T020000.000Z-abcdef/
	// 20300101T020000.000Z-abcdef true
	// true
}
