package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/efsync/efsync/orchestrate/aws"
)

// platformActions are the actions, by role, that no SDK call of ours
// makes, but that the platform needs in our name.
var platformActions = map[string][]string{
	"FunctionRole": {"logs:CreateLogStream", "logs:PutLogEvents"}, // the Lambda runtime's log
	"InstanceRole": {"s3:GetObject"},                              // the user data's aws s3 cp of the agent binary
}

// anyResource are the actions IAM grants on no resource but "*".
var anyResource = []string{"cloudwatch:PutMetricData"}

// TestTemplate parses template.json and checks that every reference
// points at a parameter, resource or condition it defines; that IAM
// grants no wildcard action, nor one on any resource but those that have
// none; and that the Lambda's environment is a valid Config. That IAM
// grants exactly the actions the code calls (and the platform needs) is
// TestEndToEnd's last step: the operations are those it recorded.
func TestTemplate(t *testing.T) {
	tpl := readTemplate(t)
	for _, err := range checkRefs(tpl) {
		t.Error(err)
	}
	roles := 0
	for name, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Role" {
			continue
		}
		roles++
		if _, ok := platformActions[name]; !ok {
			t.Errorf("role %s: TestEndToEnd checks no caller of it", name)
		}
		if _, errs := iamActions(tpl, name); len(errs) > 0 {
			t.Error(errors.Join(errs...))
		}
	}
	if roles != len(platformActions) {
		t.Errorf("%d roles, want %d: the function's and the agents'", roles, len(platformActions))
	}
	fn := tpl.Resources["Function"].Properties
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	cfg, err := configFrom(func(k string) string { return tpl.resolve(vars[k]) })
	if err != nil {
		t.Errorf("the Lambda's environment: %v", err)
	}
	if hook := tpl.Resources["Group"].Properties["LifecycleHookSpecificationList"].([]any)[0].(map[string]any); hook["LifecycleHookName"] != cfg.Resources.LifecycleHook ||
		hook["HeartbeatTimeout"] != float64(settleTime.Seconds()) {
		t.Errorf("lifecycle hook %v: want %s, heartbeat %s (settleTime)", hook, cfg.Resources.LifecycleHook, settleTime)
	}
	ttl := tpl.Resources["Table"].Properties["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != aws.TTLAttribute || ttl["Enabled"] != true {
		t.Errorf("table TTL %v: want %s, enabled", ttl, aws.TTLAttribute)
	}
	tasks := tpl.Resources["Tasks"].Properties
	// A worker extends its task by 3 heartbeats (10 s each); a task
	// that no one can read goes aside after a few receives.
	if vis, _ := tasks["VisibilityTimeout"].(float64); vis < 30 {
		t.Errorf("the tasks queue's visibility timeout %v s: want at least 30 s, the agent's extension", tasks["VisibilityTimeout"])
	}
	if rp, _ := tasks["RedrivePolicy"].(map[string]any); rp == nil || rp["maxReceiveCount"] == nil {
		t.Errorf("the tasks queue's redrive policy %v: want a dead-letter queue", tasks["RedrivePolicy"])
	}
	if got := tpl.resolve(tpl.Resources["TasksDone"].Properties["QueueName"]); got != aws.DoneURL(tpl.resolve(tasks["QueueName"])) {
		t.Errorf("the completions queue %q: want the tasks queue's name with -done (aws.DoneURL)", got)
	}
	key := tpl.Resources["Table"].Properties["KeySchema"].([]any)[0].(map[string]any)
	if key["AttributeName"] != aws.KeyAttribute {
		t.Errorf("table key %v: want %s", key, aws.KeyAttribute)
	}
}

// TestTemplateUserData checks the agent's start: both file systems
// mounted with the seed's NFS options, the binary from the log bucket,
// and agent run --aws with the Lambda's window.
func TestTemplateUserData(t *testing.T) {
	tpl := readTemplate(t)
	sub := tpl.Resources["LaunchTemplate"].Properties["LaunchTemplateData"].(map[string]any)["UserData"].(map[string]any)["Fn::Base64"].(map[string]any)["Fn::Sub"].([]any)
	ud := sub[0].(string)
	queue := fmt.Sprint(sub[1].(map[string]any)["QueueFlag"])
	if want := "map[Fn::If:[Shared map[Fn::Sub:--queue ${Tasks} ] ]]"; queue != want {
		t.Errorf("QueueFlag %s, want %s: the agents share a backup only when there are several", queue, want)
	}
	for _, want := range []string{
		"nfsvers=4.1,rsize=1048576,wsize=1048576,timeo=600,retrans=2,hard,noresvport",
		"${SourceEfs}.efs.${AWS::Region}.${AWS::URLSuffix}:/ /mnt/efsync/source",
		"${DestinationEfs}.efs.${AWS::Region}.${AWS::URLSuffix}:/ /mnt/efsync/backup",
		"aws s3 cp s3://${LogBucket}/${AgentKey} /usr/local/bin/efsync-agent",
		"efsync-agent run --aws --table ${Table} --bucket ${LogBucket} --group ${AWS::StackName}-agents --hook efsync-terminate --window ${BackupWindow}m",
		"--state-dir /var/lib/efsync ${QueueFlag}-v",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q", want)
		}
	}
}

// template is the part of a CloudFormation template the tests read.
type template struct {
	Parameters map[string]struct {
		Type    string `json:"Type"`
		Default any    `json:"Default"`
	} `json:"Parameters"`
	Conditions map[string]any `json:"Conditions"`
	Resources  map[string]struct {
		Type       string         `json:"Type"`
		Condition  string         `json:"Condition"`
		DependsOn  []string       `json:"DependsOn"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]any `json:"Outputs"`
}

func readTemplate(t *testing.T) *template {
	t.Helper()
	b, err := os.ReadFile("template.json")
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.json: %v", err)
	}
	if len(tpl.Resources) == 0 || len(tpl.Parameters) == 0 {
		t.Fatal("template.json: no resources or parameters")
	}
	return &tpl
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// checkRefs returns an error for each Ref, Fn::GetAtt, Fn::Sub variable,
// Condition or DependsOn that names nothing the template defines.
func checkRefs(tpl *template) []error {
	var errs []error
	name := func(n, where string) {
		_, p := tpl.Parameters[n]
		_, r := tpl.Resources[n]
		if !p && !r && !strings.HasPrefix(n, "AWS::") {
			errs = append(errs, fmt.Errorf("%s: %q is no parameter or resource", where, n))
		}
	}
	resource := func(n, where string) {
		if _, ok := tpl.Resources[n]; !ok {
			errs = append(errs, fmt.Errorf("%s: %q is no resource", where, n))
		}
	}
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x, where)
			}
		case map[string]any:
			for k, x := range v {
				switch k {
				case "Ref":
					name(x.(string), where)
				case "Fn::GetAtt":
					resource(x.([]any)[0].(string), where)
				case "Fn::Sub":
					s, _ := x.(string)
					var own map[string]any // the list form's variables
					if l, ok := x.([]any); ok && len(l) == 2 {
						s, _ = l[0].(string)
						own, _ = l[1].(map[string]any)
					}
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						if _, ok := own[m[1]]; ok {
							continue
						}
						if n, _, attr := strings.Cut(m[1], "."); attr {
							resource(n, where)
						} else {
							name(n, where)
						}
					}
				case "Condition", "Fn::If":
					c, _ := x.(string)
					if l, ok := x.([]any); ok {
						c, _ = l[0].(string)
					}
					if _, ok := tpl.Conditions[c]; !ok && c != "" && where != "" {
						if _, isMap := x.(map[string]any); !isMap {
							errs = append(errs, fmt.Errorf("%s: condition %q is not defined", where, c))
						}
					}
				}
				walk(x, where)
			}
		}
	}
	for n, r := range tpl.Resources {
		if !strings.HasPrefix(r.Type, "AWS::") {
			errs = append(errs, fmt.Errorf("resource %s: type %q", n, r.Type))
		}
		if _, ok := tpl.Conditions[r.Condition]; r.Condition != "" && !ok {
			errs = append(errs, fmt.Errorf("resource %s: condition %q is not defined", n, r.Condition))
		}
		for _, d := range r.DependsOn {
			resource(d, "resource "+n+" DependsOn")
		}
		walk(r.Properties, "resource "+n)
	}
	walk(tpl.Conditions, "conditions")
	walk(tpl.Outputs, "outputs")
	return errs
}

// iamActions returns the actions granted by the template's role,
// sorted, and an error for each wildcard action and each grant on "*" of
// an action that has resources.
func iamActions(tpl *template, role string) ([]string, []error) {
	var actions []string
	var errs []error
	for n, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Role" || n != role {
			continue
		}
		pols, _ := r.Properties["Policies"].([]any)
		for _, p := range pols {
			stmts := p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
			for _, s := range stmts {
				st := s.(map[string]any)
				acts := strings.Fields(fmt.Sprint(st["Action"]))
				if l, ok := st["Action"].([]any); ok {
					acts = nil
					for _, a := range l {
						acts = append(acts, a.(string))
					}
				}
				for _, a := range acts {
					if strings.ContainsAny(a, "*?") {
						errs = append(errs, fmt.Errorf("role %s: wildcard action %q", n, a))
					}
					if st["Resource"] == "*" && !slices.Contains(anyResource, a) {
						errs = append(errs, fmt.Errorf("role %s: %s on any resource", n, a))
					}
					if st["Effect"] != "Allow" {
						errs = append(errs, fmt.Errorf("role %s: %s: effect %v", n, a, st["Effect"]))
					}
				}
				actions = append(actions, acts...)
			}
		}
	}
	sort.Strings(actions)
	return slices.Compact(actions), errs
}

// resolve returns v as the function would see it: a Ref of a parameter
// its default, any other reference a placeholder, Fn::Sub with its
// parameters' defaults.
func (tpl *template) resolve(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any:
		if r, ok := v["Ref"].(string); ok {
			if p, ok := tpl.Parameters[r]; ok && p.Default != nil {
				return fmt.Sprint(p.Default)
			}
			return "ref-" + r
		}
		if s, ok := v["Fn::Sub"].(string); ok {
			return subVar.ReplaceAllStringFunc(s, func(m string) string {
				n := m[2 : len(m)-1]
				if p, ok := tpl.Parameters[n]; ok && p.Default != nil {
					return fmt.Sprint(p.Default)
				}
				return strings.NewReplacer(":", "-", ".", "-").Replace(n)
			})
		}
	}
	return "placeholder"
}
