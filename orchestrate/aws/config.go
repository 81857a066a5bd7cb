package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// LoadConfig returns the SDK configuration of the environment (a Lambda's
// or an instance's role, the region from AWS_REGION or the instance's
// metadata), for New: so that the Lambda and the agent need not import
// the SDK themselves.
func LoadConfig(ctx context.Context) (awssdk.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}
