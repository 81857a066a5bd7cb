package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The detail types of the EventBridge events the handler is sent: the
// schedule's, and the Auto Scaling group's two (the rule in template.json
// matches these).
const (
	detailScheduled     = "Scheduled Event"
	detailTerminating   = "EC2 Instance-terminate Lifecycle Action"
	detailTerminated    = "EC2 Instance Terminate Successful"
	sourceEvents        = "aws.events"
	sourceAutoScaling   = "aws.autoscaling"
	transitionTerminate = "autoscaling:EC2_INSTANCE_TERMINATING"
)

// request is one invocation's event, decoded: startReq, windowEndReq,
// terminatingReq, terminatedReq or restoreReq.
type request interface{ kind() string }

// startReq is the schedule's event: a backup starts, scheduled for At.
type startReq struct{ At time.Time }

// windowEndReq is the Timer's event: the window of backup ID ends. Its
// payload, {"efsyncWindowEnd":"ID"}, holds the id alone: the job's state is in
// the Catalog.
type windowEndReq struct{ ID string }

// terminatingReq is the terminate lifecycle action of an instance of the
// group: its agent must stop, flush, then complete the action.
type terminatingReq struct {
	Group, Hook, Instance, Token string
}

// terminatedReq says an instance of the group is gone.
type terminatedReq struct {
	Group, Instance, Cause string
}

// restoreReq asks for a non-destructive restore of Path in backup ID into
// Target, a new directory relative to the source file system's root.
type restoreReq struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Target string `json:"target"`
}

func (startReq) kind() string       { return "start" }
func (windowEndReq) kind() string   { return "window end" }
func (terminatingReq) kind() string { return "terminating" }
func (terminatedReq) kind() string  { return "terminated" }
func (restoreReq) kind() string     { return "restore" }

// direct is the shape of the events that are not EventBridge's: the
// Timer's and a restore request, sent by the Timer's target Input and by
// `aws lambda invoke`.
type direct struct {
	WindowEnd *string     `json:"efsyncWindowEnd"`
	Restore   *restoreReq `json:"restore"`
}

// asgDetail is the detail of the Auto Scaling group's events: the fields
// of both that the handler reads.
type asgDetail struct {
	Group      string `json:"AutoScalingGroupName"`
	Instance   string `json:"EC2InstanceId"`
	Hook       string `json:"LifecycleHookName"`
	Token      string `json:"LifecycleActionToken"`
	Transition string `json:"LifecycleTransition"`
	Cause      string `json:"Cause"`
}

// decode returns the request of an invocation's payload, or a one-line
// error naming what is wrong with it. It is a pure function.
func decode(raw []byte) (request, error) {
	var probe struct {
		DetailType *string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("event: not a JSON object: %w", err)
	}
	if probe.DetailType != nil {
		return decodeEventBridge(raw)
	}
	var d direct
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("event: want an EventBridge event, {\"efsyncWindowEnd\":ID} or {\"restore\":{...}}: %w", err)
	}
	switch {
	case d.WindowEnd != nil && d.Restore != nil:
		return nil, errors.New("event: windowEnd and restore together")
	case d.WindowEnd != nil:
		if err := checkID(*d.WindowEnd); err != nil {
			return nil, fmt.Errorf("event windowEnd: %w", err)
		}
		return windowEndReq{ID: *d.WindowEnd}, nil
	case d.Restore != nil:
		return d.Restore.validate()
	}
	return nil, errors.New("event: want an EventBridge event, {\"efsyncWindowEnd\":ID} or {\"restore\":{...}}")
}

// decodeEventBridge decodes the schedule's event and the group's.
func decodeEventBridge(raw []byte) (request, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	switch {
	case ev.DetailType == detailScheduled && ev.Source == sourceEvents:
		if ev.Time.IsZero() {
			return nil, errors.New("scheduled event: no time")
		}
		return startReq{At: ev.Time}, nil
	case (ev.DetailType == detailTerminating || ev.DetailType == detailTerminated) && ev.Source == sourceAutoScaling:
		var d asgDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, fmt.Errorf("%s: detail: %w", ev.DetailType, err)
		}
		if d.Group == "" || d.Instance == "" {
			return nil, fmt.Errorf("%s: no AutoScalingGroupName or EC2InstanceId", ev.DetailType)
		}
		if ev.DetailType == detailTerminated {
			return terminatedReq{Group: d.Group, Instance: d.Instance, Cause: d.Cause}, nil
		}
		if d.Transition != transitionTerminate || d.Hook == "" {
			return nil, fmt.Errorf("%s: transition %q, hook %q: want %s and a hook", ev.DetailType, d.Transition, d.Hook, transitionTerminate)
		}
		return terminatingReq{Group: d.Group, Hook: d.Hook, Instance: d.Instance, Token: d.Token}, nil
	}
	return nil, fmt.Errorf("event: %q from %q: not one this handler is sent", ev.DetailType, ev.Source)
}

// validate returns r, cleaned, or why it can't run: the path must stay
// inside the snapshot and the target inside the source file system.
func (r restoreReq) validate() (request, error) {
	if err := checkID(r.ID); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	p := path.Clean("./" + strings.TrimLeft(r.Path, "/")) // a leading / is the snapshot's root
	if p == ".." || strings.HasPrefix(p, "../") {
		return nil, fmt.Errorf("restore: path %q: want a path inside the snapshot", r.Path)
	}
	r.Path = p
	t := path.Clean(r.Target)
	if r.Target == "" || path.IsAbs(r.Target) || t == "." || t == ".." || strings.HasPrefix(t, "../") {
		return nil, fmt.Errorf("restore: target %q: want a new directory, relative to the source's root", r.Target)
	}
	r.Target = t
	return r, nil
}

// checkID refuses what can't be a backup id: empty, or a path.
func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\\") || id[0] == '.' {
		return fmt.Errorf("backup id %q: want an id like 20300101T020000.000Z-1a2b", id)
	}
	return nil
}
