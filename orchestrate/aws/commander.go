package aws

import (
	"context"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Commander is the orchestrate.Commander over SSM and the Catalog: it
// records the stop in the job's item (Catalog.RequestStop), then sends
// AWS-RunShellScript to the group's instances (by their
// aws:autoscaling:groupName tag, so it needs no instance id), calling
// `AGENT stop --id ID`, which stops that backup only. SSM sends nothing
// to an instance it has not registered yet, one still booting: that
// agent finds the request in the catalog instead. It is safe for
// concurrent use.
type Commander struct {
	// config
	client *ssm.Client
	cat    *Catalog
	group  string
	agent  string
}

// Stop records the stop of backup id and sends its command.
func (c *Commander) Stop(ctx context.Context, id string) error {
	if err := c.cat.RequestStop(ctx, id, c.cat.opt.Now()); err != nil {
		return err
	}
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
