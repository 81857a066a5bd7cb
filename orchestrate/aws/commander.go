package aws

import (
	"context"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Commander is the orchestrate.Commander over SSM: SendCommand runs
// AWS-RunShellScript on the group's instances (by their
// aws:autoscaling:groupName tag, so it needs no instance id), calling
// `AGENT stop --id ID`, which stops that backup only. It is safe for
// concurrent use. A group with no instance is sent nothing, by SSM.
type Commander struct {
	// config
	client *ssm.Client
	group  string
	agent  string
}

// Stop sends the stop command for backup id.
func (c *Commander) Stop(ctx context.Context, id string) error {
	_, err := c.client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: awssdk.String("AWS-RunShellScript"),
		Targets:      []ssmtypes.Target{{Key: awssdk.String("tag:aws:autoscaling:groupName"), Values: []string{c.group}}},
		Parameters:   map[string][]string{"commands": {stopCommand(c.agent, id)}},
		Comment:      awssdk.String("efsync: stop backup " + id),
		// The agent stops within its grace, flushes, then answers.
		TimeoutSeconds: awssdk.Int32(600),
	})
	if err != nil && apiCode(err) != "InvalidInstanceId" { // no instance: nothing to stop
		return fmt.Errorf("ssm stop %s: %w", id, err)
	}
	return nil
}

// stopCommand returns the shell command that stops backup id.
func stopCommand(agent, id string) string {
	return shellQuote(agent) + " stop --id " + shellQuote(id)
}

// shellQuote quotes s for sh, unless it needs none.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
