package awsfake

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/google/go-cmp/cmp"
)

// post sends body to the fake and returns the status and answer.
func post(t *testing.T, s *Server, path, ctype string, hdr map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProtocols(t *testing.T) {
	s := Start(t)
	form := url.Values{"Action": {"UpdateAutoScalingGroup"}, "Version": {"2011-01-01"},
		"AutoScalingGroupName": {"g"}, "DesiredCapacity": {"1"}}
	code, body := post(t, s, "/", "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
	if code != 200 || !strings.Contains(body, "<UpdateAutoScalingGroupResult>") {
		t.Errorf("query: %d %s", code, body)
	}
	code, body = post(t, s, "/", "application/x-amz-json-1.1", map[string]string{"X-Amz-Target": "AmazonSSM.SendCommand"},
		[]byte(`{"DocumentName":"AWS-RunShellScript"}`))
	if code != 200 || !strings.Contains(body, `"CommandId":"cmd-1"`) {
		t.Errorf("json: %d %s", code, body)
	}
	in := cbor.Encode(cbor.Map{"Namespace": cbor.String("ns"), "MetricData": cbor.List{cbor.Map{"Value": cbor.Float64(2.5)}}})
	code, _ = post(t, s, cborPrefix+"PutMetricData", "application/cbor", map[string]string{"Smithy-Protocol": "rpc-v2-cbor"}, in)
	if code != 200 {
		t.Errorf("cbor: %d", code)
	}
	want := []Call{
		{Service: "autoscaling", Action: "UpdateAutoScalingGroup", Params: map[string]any{"AutoScalingGroupName": "g", "DesiredCapacity": "1"}},
		{Service: "ssm", Action: "SendCommand", Params: map[string]any{"DocumentName": "AWS-RunShellScript"}},
		{Service: "cloudwatch", Action: "PutMetricData", Params: map[string]any{"Namespace": "ns", "MetricData": []any{map[string]any{"Value": 2.5}}}},
	}
	if d := cmp.Diff(want, s.Calls()); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"autoscaling:UpdateAutoScalingGroup", "cloudwatch:PutMetricData", "ssm:SendCommand"}, s.Ops()); d != "" {
		t.Errorf("ops (-want +got):\n%s", d)
	}
}

func TestHandlerError(t *testing.T) {
	s := Start(t)
	s.Handle("events:DeleteRule", func(Call) (any, *APIError) {
		return nil, &APIError{Status: 400, Code: "ResourceNotFoundException", Message: "Rule r does not exist."}
	})
	code, body := post(t, s, "/", "application/x-amz-json-1.1", map[string]string{"X-Amz-Target": "AWSEvents.DeleteRule"}, []byte(`{"Name":"r"}`))
	if code != 400 || !strings.Contains(body, `"__type":"ResourceNotFoundException"`) {
		t.Errorf("got %d %s", code, body)
	}
	if c := s.Calls("events:DeleteRule"); len(c) != 1 || c[0].Param("Name") != "r" {
		t.Errorf("calls %v", c)
	}
}
