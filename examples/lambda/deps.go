package main

import (
	"context"
	"errors"
)

// newDeps returns the AWS backends of cfg: orchestrate/aws.New over the
// SDK's default configuration, and its lifecycle actions.
//
// NB: orchestrate/aws is built on branch awsbackends. Until it is merged,
// this stand-in refuses to run. deps_aws.go holds the wiring, tagged
// ignore so that go mod tidy passes over it; merging is deleting this file
// and that tag.
func newDeps(context.Context, Config) (Deps, error) {
	return Deps{}, errors.New("built without orchestrate/aws (branch awsbackends): the handler has no backends")
}
