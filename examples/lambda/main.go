// Command lambda is efsync's orchestrator on AWS: the handler of an AWS
// Lambda function that the stack of template.json deploys. Every event
// it is sent becomes an orchestrate event, handled by an
// orchestrate.Orchestrator over the AWS backends (orchestrate/aws):
//
//	schedule's "Scheduled Event"            -> ScheduleStart{At: its time}
//	the Timer's {"efsyncWindowEnd":ID}      -> WindowEnd{ID}: the group to 0
//	"EC2 Instance-terminate Lifecycle Action" -> StopRequested: the SSM stop
//	"EC2 Instance Terminate Successful"     -> AgentGone: metrics, notice
//	{"restore":{"id","path","target"}}      -> a restore job for an agent
//
// It keeps no state between invocations: the Catalog (DynamoDB) has it
// all, and each start makes its own backup id. Its configuration is in
// environment variables (config.go).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := configFrom(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lambda: %v\n", err)
		os.Exit(1)
	}
	d, err := newDeps(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lambda: %v\n", err)
		os.Exit(1)
	}
	h, err := NewHandler(cfg, d, HandlerOptions{Logger: log})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lambda: %v\n", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
