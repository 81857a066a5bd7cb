//go:build ignore

// The wiring of the AWS backends, once orchestrate/aws is merged: delete
// deps.go and the build tag above.

package main

import (
	"context"
	"fmt"

	"github.com/efsync/efsync/orchestrate/aws"
)

// newDeps returns the AWS backends of cfg: orchestrate/aws.New over the
// SDK's default configuration (the function's role, its region), and the
// group's lifecycle actions.
func newDeps(ctx context.Context, cfg Config) (Deps, error) {
	sdk, err := aws.DefaultConfig(ctx)
	if err != nil {
		return Deps{}, fmt.Errorf("aws config: %w", err)
	}
	r := aws.Resources(cfg.Resources)
	b, err := aws.New(sdk, r)
	if err != nil {
		return Deps{}, err
	}
	return Deps{Backends: b, Lifecycle: aws.NewLifecycle(sdk, r)}, nil
}
