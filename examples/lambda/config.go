package main

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/orchestrate"
)

// Config is the handler's configuration, from its environment variables
// (template.json sets them from the stack's parameters and resources).
type Config struct {
	// Plan is each night's backup: EFSYNC_LABEL, EFSYNC_SOURCE and
	// EFSYNC_REPO (the mount points on the agent), EFSYNC_WINDOW,
	// EFSYNC_MARGIN, EFSYNC_KEEP, EFSYNC_NOTIFY_SUCCESS, EFSYNC_AGENTS
	// (the agents that share each backup; default 1).
	Plan orchestrate.Plan
	// Resources are the stack's resources the backends work on.
	Resources Resources
}

// Resources mirrors orchestrate/aws.Resources: the Auto Scaling group and
// its terminate hook, the DynamoDB table, S3 bucket and SNS topic, the
// CloudWatch namespace, the Timer's target and role, the agent's path on
// the instances, and how long records live (the TTL).
type Resources struct {
	Group, LifecycleHook   string
	Table, Bucket, Topic   string
	Namespace              string
	TimerTarget, TimerRole string
	AgentPath              string
	TTL                    time.Duration
	// RulePrefix starts the names of the Timer's rules
	// (EFSYNC_RULE_PREFIX, default "efsync-"): the template grants the
	// function rule/<prefix>* only.
	RulePrefix string
}

// Defaults of the optional variables.
const (
	defaultMargin     = 15 * time.Minute // as the seed: the stop comes 15 minutes before the window's end
	defaultNamespace  = "efsync"
	defaultAgentPath  = "/usr/local/bin/efsync-agent"
	defaultRecordDays = 90
)

// configFrom returns the configuration in the variables getenv reads, or
// one line naming every variable missing, or the first that is bad. It
// is a pure function of getenv.
func configFrom(getenv func(string) string) (Config, error) {
	var missing []string
	need := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	r := Resources{Group: need("EFSYNC_GROUP"), LifecycleHook: need("EFSYNC_HOOK"),
		Table: need("EFSYNC_TABLE"), Bucket: need("EFSYNC_BUCKET"), Topic: need("EFSYNC_TOPIC"),
		TimerTarget: need("EFSYNC_TIMER_TARGET"), TimerRole: getenv("EFSYNC_TIMER_ROLE"),
		Namespace: getenv("EFSYNC_NAMESPACE"), AgentPath: getenv("EFSYNC_AGENT_PATH"), RulePrefix: getenv("EFSYNC_RULE_PREFIX")}
	p := orchestrate.Plan{Label: getenv("EFSYNC_LABEL"), Source: need("EFSYNC_SOURCE"), Repo: need("EFSYNC_REPO")}
	window := need("EFSYNC_WINDOW")
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	var err error
	if p.Window, err = duration("EFSYNC_WINDOW", window); err != nil {
		return Config{}, err
	}
	p.Margin = defaultMargin
	if v := getenv("EFSYNC_MARGIN"); v != "" {
		if p.Margin, err = duration("EFSYNC_MARGIN", v); err != nil {
			return Config{}, err
		}
	}
	if p.Margin >= p.Window {
		return Config{}, fmt.Errorf("EFSYNC_MARGIN %s: leaves nothing of EFSYNC_WINDOW %s", p.Margin, p.Window)
	}
	if p.Keep.Last, err = count("EFSYNC_KEEP", getenv("EFSYNC_KEEP"), 0); err != nil {
		return Config{}, err
	}
	days, err := count("EFSYNC_RECORD_DAYS", getenv("EFSYNC_RECORD_DAYS"), defaultRecordDays)
	if err != nil {
		return Config{}, err
	}
	r.TTL = time.Duration(days) * 24 * time.Hour
	if p.Agents, err = count("EFSYNC_AGENTS", getenv("EFSYNC_AGENTS"), 1); err != nil {
		return Config{}, err
	}
	if p.Agents < 1 {
		return Config{}, fmt.Errorf("EFSYNC_AGENTS %d: want 1 or more", p.Agents)
	}
	if p.NotifySuccess, err = boolean("EFSYNC_NOTIFY_SUCCESS", getenv("EFSYNC_NOTIFY_SUCCESS")); err != nil {
		return Config{}, err
	}
	if !path.IsAbs(p.Source) || !path.IsAbs(p.Repo) {
		return Config{}, fmt.Errorf("EFSYNC_SOURCE %q, EFSYNC_REPO %q: want absolute paths on the agent", p.Source, p.Repo)
	}
	if p.Label == "" {
		p.Label = efsync.DefaultLabel
	}
	if p.Label == restoreLabel {
		return Config{}, fmt.Errorf("EFSYNC_LABEL %q: the label of restores", p.Label)
	}
	if r.Namespace == "" {
		r.Namespace = defaultNamespace
	}
	if r.AgentPath == "" {
		r.AgentPath = defaultAgentPath
	}
	return Config{Plan: p, Resources: r}, nil
}

// duration parses a positive Go duration (3h, 90m).
func duration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration like 3h or 180m", name, v)
	}
	return d, nil
}

// count parses a non-negative integer, def when v is empty.
func count(name, v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want a whole number, 0 or more", name, v)
	}
	return n, nil
}

// boolean parses true or false; empty is false.
func boolean(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New(name + " " + strconv.Quote(v) + ": want true or false")
	}
	return b, nil
}
