package aws

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/internal/awstest"
	"github.com/efsync/efsync/orchestrate"
)

// dynalite is the package's one DynamoDB server, or why there is none.
var dynalite struct {
	d   *awstest.Dynalite
	err error
	n   atomic.Int64 // numbers the tables
}

func TestMain(m *testing.M) {
	dynalite.d, dynalite.err = awstest.StartDynalite(context.Background())
	code := m.Run()
	dynalite.d.Close()
	os.Exit(code)
}

// testEnv is a set of AWS backends whose services are all on this
// machine: Auto Scaling, SSM, EventBridge, SNS and CloudWatch on the
// recording fake, S3 on gofakes3, DynamoDB on dynalite.
type testEnv struct {
	fake *awsfake.Server
	res  Resources
	b    orchestrate.Backends
	cfg  awssdk.Config
	s3   *s3.Client
	ddb  *dynamodb.Client // nil without dynalite
	now  time.Time
}

// newEnv returns a test's own backends: its own table and bucket. With
// dynamo, the test needs dynalite (skipped or failed without it).
func newEnv(t *testing.T, dynamo bool) *testEnv {
	t.Helper()
	e := &testEnv{fake: awsfake.Start(t), now: time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC)}
	e.cfg = awssdk.Config{Region: "us-east-1", Credentials: awssdk.CredentialsProviderFunc(
		func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		})}
	mem := s3mem.New()
	s3srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(s3srv.Close)
	ep := Endpoints{AutoScaling: e.fake.URL, CloudWatch: e.fake.URL, EventBridge: e.fake.URL, SNS: e.fake.URL, SSM: e.fake.URL,
		S3: s3srv.URL, DynamoDB: "http://127.0.0.1:1"} // no DynamoDB unless asked for
	e.res = Resources{Group: "efsync-group", LifecycleHook: "efsync-terminate", Bucket: "efsync-logs-bucket",
		Table: fmt.Sprintf("efsync-%d", dynalite.n.Add(1)), Topic: "arn:aws:sns:us-east-1:000000000000:efsync",
		Namespace: "efsync", TimerTarget: "arn:aws:lambda:us-east-1:000000000000:function:efsync",
		AgentPath: "/usr/local/bin/agent", TTL: 90 * 24 * time.Hour}
	if err := mem.CreateBucket(e.res.Bucket); err != nil {
		t.Fatal(err)
	}
	if dynamo {
		ep.DynamoDB = awstest.NeedDynalite(t, dynalite.d, dynalite.err)
		e.ddb = dynamodb.NewFromConfig(e.cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awssdk.String(ep.DynamoDB) })
		e.createTable(t)
	}
	e.s3 = s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = awssdk.String(s3srv.URL), true })
	b, err := NewWithOptions(e.cfg, e.res, Options{Endpoints: ep, S3PathStyle: true, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	return e
}

// createTable makes the test's table as the template does: key BackupId.
func (e *testEnv) createTable(t *testing.T) {
	t.Helper()
	_, err := e.ddb.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            awssdk.String(e.res.Table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: awssdk.String(KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: awssdk.String(KeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	w := dynamodb.NewTableExistsWaiter(e.ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: awssdk.String(e.res.Table)}, 10*time.Second); err != nil {
		t.Fatalf("create table: %v", err)
	}
}

// rawItem returns the item of key as DynamoDB holds it.
func (e *testEnv) rawItem(t *testing.T, key string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := e.ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: awssdk.String(e.res.Table),
		Key: map[string]ddbtypes.AttributeValue{KeyAttribute: str(key)}, ConsistentRead: awssdk.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// objects returns the keys and contents of the bucket's objects under
// prefix, in key order.
func (e *testEnv) objects(t *testing.T, prefix string) ([]string, string) {
	t.Helper()
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: awssdk.String(e.res.Bucket), Prefix: awssdk.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var text strings.Builder
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
		obj, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: awssdk.String(e.res.Bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		text.Write(b)
	}
	return keys, text.String()
}
