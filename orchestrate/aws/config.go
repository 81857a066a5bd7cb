package aws

import (
	"context"
	"fmt"
	"io"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// LoadConfig returns the SDK configuration of the environment (a Lambda's
// or an instance's role; the region from AWS_REGION or, on an instance
// without it, from the instance's metadata), for New: so that the Lambda
// and the agent need not import the SDK themselves. The environment's
// endpoints (AWS_ENDPOINT_URL_<SERVICE>) are kept, as New keeps them.
func LoadConfig(ctx context.Context) (awssdk.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
	if err != nil {
		return cfg, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// InstanceID returns the id of the EC2 instance it runs on, from the
// instance metadata service (IMDSv2, a session token first), at the
// endpoint cfg's environment names (AWS_EC2_METADATA_SERVICE_ENDPOINT)
// or the default one.
func InstanceID(ctx context.Context, cfg awssdk.Config) (string, error) {
	out, err := imds.NewFromConfig(cfg).GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(out.Content)
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("instance id: the metadata service answered nothing")
	}
	return id, nil
}
