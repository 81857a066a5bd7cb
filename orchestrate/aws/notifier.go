package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/efsync/efsync/orchestrate"
)

// Notifier is the orchestrate.Notifier on an SNS topic: the notice's
// subject as the Subject (which email subscribers see), and the notice
// as indented JSON as the Message. It is safe for concurrent use.
type Notifier struct {
	// config
	client *sns.Client
	topic  string
}

// Notify publishes n.
func (s *Notifier) Notify(ctx context.Context, n orchestrate.Notice) error {
	msg, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return fmt.Errorf("notice %s: %w", n.ID, err)
	}
	_, err = s.client.Publish(ctx, &sns.PublishInput{
		TopicArn: awssdk.String(s.topic),
		Subject:  awssdk.String(snsSubject(n.Subject)),
		Message:  awssdk.String(string(msg)),
	})
	if err != nil {
		return fmt.Errorf("notice %s: %w", n.ID, err)
	}
	return nil
}

// snsSubject returns s as SNS takes a subject: printable ASCII, at most
// 100 characters.
func snsSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
