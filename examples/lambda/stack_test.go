package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/internal/awstest"
	"github.com/efsync/efsync/orchestrate/aws"
)

// The names of the test stack's resources, as template.json names them
// for a stack "efsync", and the instance the fake metadata service is.
const (
	stackGroup    = "efsync-agents"
	stackHook     = "efsync-terminate"
	stackBucket   = "efsync-logs"
	stackInstance = "i-0598c7d356eba48d7"
	// The access keys of the Lambda and of the agents: each role's calls
	// are told apart by them, for its IAM check.
	functionKey = "function"
	agentKey    = "agent"
)

// stack is a deployment of the solution on this machine: Auto Scaling,
// SSM, EventBridge, SNS and CloudWatch on the recording fake (awsfake),
// DynamoDB on dynalite and S3 on gofakes3, both behind a recording
// proxy, and an EC2 metadata service that says which instance the agent
// is on. The Lambda runs in the test's process, the agent as a child
// process; both find the endpoints in their environment
// (AWS_ENDPOINT_URL_<SERVICE>), as the SDK reads them.
type stack struct {
	fake   *awsfake.Server
	sqs    *awsfake.SQSState
	tasks  string // the tasks queue's URL, as template.json names it
	rec    *recorder
	s3     *s3mem.Backend
	dynamo string // dynalite's own URL, for the test's reads
	table  string
	env    map[string]string // the AWS environment of the Lambda and the agent
}

// newStack starts the endpoints and makes the table and the bucket.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{fake: awsfake.Start(t), rec: &recorder{ops: map[string]map[string]bool{}}, s3: s3mem.New(),
		dynamo: awstest.NeedDynalite(t, dynalite.d, dynalite.err), table: fmt.Sprintf("efsync-backups-%s-%d", strings.ToLower(t.Name()), dynalite.n.Add(1))}
	s.sqs = s.fake.SQS()
	s.tasks = s.sqs.CreateQueue("efsync-tasks", time.Minute)
	s.sqs.CreateQueue("efsync-tasks-done", time.Minute)
	if err := s.s3.CreateBucket(stackBucket); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(s.s3).Server())
	t.Cleanup(s3srv.Close)
	s.dynamoCall(t, "CreateTable", map[string]any{"TableName": s.table, "BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": []any{map[string]any{"AttributeName": aws.KeyAttribute, "AttributeType": "S"}},
		"KeySchema":            []any{map[string]any{"AttributeName": aws.KeyAttribute, "KeyType": "HASH"}}})
	imds := http.NewServeMux()
	imds.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "token") })
	imds.HandleFunc("GET /latest/meta-data/instance-id", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, stackInstance) })
	imdsSrv := httptest.NewServer(imds)
	t.Cleanup(imdsSrv.Close)
	dir := t.TempDir()
	s.env = map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": functionKey, "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_ENDPOINT_URL_AUTO_SCALING": s.fake.URL, "AWS_ENDPOINT_URL_SSM": s.fake.URL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE": s.fake.URL, "AWS_ENDPOINT_URL_SNS": s.fake.URL,
		"AWS_ENDPOINT_URL_CLOUDWATCH": s.fake.URL, "AWS_ENDPOINT_URL_SQS": s.fake.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":         s.rec.proxy(t, s.dynamo, dynamoOp),
		"AWS_ENDPOINT_URL_S3":               s.rec.proxy(t, s3srv.URL, s3Op),
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": imdsSrv.URL,
	}
	return s
}

// lambda returns a handler as the Lambda's main makes it, from the
// environment vars (over the stack's AWS environment). The
// metadata service is off for it: a function has none.
func (s *stack) lambda(t *testing.T, vars map[string]string) *Handler {
	t.Helper()
	for k, v := range s.env {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := configFrom(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDeps(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(cfg, d, HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// invoke hands the handler one payload, failing t on an error.
func invoke(t *testing.T, h *Handler, payload string) Result {
	t.Helper()
	res, err := h.Handle(t.Context(), json.RawMessage(payload))
	if err != nil {
		t.Fatalf("invoke %.80s: %v", payload, err)
	}
	return res
}

// agentEnv returns the agent's environment: the stack's AWS one, a
// PATH, and state under home (its stop socket, where agent stop finds it).
func (s *stack) agentEnv(home string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state")}
	for _, k := range slices.Sorted(maps.Keys(s.env)) {
		v := s.env[k]
		if k == "AWS_ACCESS_KEY_ID" {
			v = agentKey
		}
		env = append(env, k+"="+v)
	}
	return env
}

// instanceEnv is agentEnv on another instance: a metadata service of
// its own says so.
func (s *stack) instanceEnv(t *testing.T, home, instance string) []string {
	t.Helper()
	imds := http.NewServeMux()
	imds.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "token") })
	imds.HandleFunc("GET /latest/meta-data/instance-id", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, instance) })
	srv := httptest.NewServer(imds)
	t.Cleanup(srv.Close)
	env := s.agentEnv(home)
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_EC2_METADATA_SERVICE_ENDPOINT=") {
			env[i] = "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + srv.URL
		}
	}
	return env
}

// dynamoCall makes a DynamoDB call on dynalite itself, unrecorded, and
// returns its JSON answer: the test's own reads, on the wire, as the
// table holds them.
func (s *stack) dynamoCall(t *testing.T, op string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.dynamo, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("X-Amz-Date", "20300101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20300101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("dynamodb %s: %d %v %v", op, resp.StatusCode, out, err)
	}
	return out
}

// item returns the item of id as the table holds it: attribute names to
// their typed values ({"N": "123"}).
func (s *stack) item(t *testing.T, id string) map[string]map[string]any {
	t.Helper()
	out := s.dynamoCall(t, "GetItem", map[string]any{"TableName": s.table, "ConsistentRead": true,
		"Key": map[string]any{aws.KeyAttribute: map[string]any{"S": id}}})
	item := map[string]map[string]any{}
	raw, _ := out["Item"].(map[string]any)
	for k, v := range raw {
		item[k] = v.(map[string]any)
	}
	return item
}

// logs returns the keys and the text of the log parts of id in the
// bucket.
func (s *stack) logs(t *testing.T, id string) ([]string, string) {
	t.Helper()
	p := gofakes3.NewPrefix(ptr(aws.LogPrefix+"daily/"+id+"/"), nil)
	list, err := s.s3.ListBucket(stackBucket, &p, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var text strings.Builder
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
		obj, err := s.s3.GetObject(stackBucket, c.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&text, obj.Contents)
		obj.Contents.Close()
	}
	return keys, text.String()
}

func ptr[T any](v T) *T { return &v }

// recorder records the operations that reach DynamoDB and S3 through its
// proxies, as IAM actions: what awsfake records of the other services.
type recorder struct {
	mu  sync.Mutex
	ops map[string]map[string]bool // by access key
}

// proxy returns the URL of a proxy to upstream that records op of each
// request.
func (r *recorder) proxy(t *testing.T, upstream string, op func(*http.Request) string) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		key := awsfake.AccessKey(req)
		if r.ops[key] == nil {
			r.ops[key] = map[string]bool{}
		}
		r.ops[key][op(req)] = true
		r.mu.Unlock()
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Ops returns the operations recorded of requests signed with key,
// sorted.
func (r *recorder) Ops(key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.ops[key]))
}

// dynamoOp is the action of a DynamoDB request: its X-Amz-Target's
// operation.
func dynamoOp(req *http.Request) string {
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	return "dynamodb:" + op
}

// s3Op is the IAM action of a path-style S3 request, by its method and
// the shape of its path (bucket, or bucket and key).
func s3Op(req *http.Request) string {
	_, key, onObject := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	onObject = onObject && key != ""
	switch {
	case onObject && req.Method == http.MethodPut:
		return "s3:PutObject"
	case onObject && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		return "s3:GetObject"
	case onObject && req.Method == http.MethodDelete:
		return "s3:DeleteObject"
	case req.Method == http.MethodGet:
		return "s3:ListBucket"
	}
	return fmt.Sprintf("s3:%s-bucket", req.Method)
}
