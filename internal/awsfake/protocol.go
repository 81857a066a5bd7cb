package awsfake

import (
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
)

// protocol writes the answers of one wire protocol.
type protocol interface {
	write(w http.ResponseWriter, c Call, resp any)
	writeError(w http.ResponseWriter, c Call, e *APIError)
}

// queryVersions names the service of a Query request by its API version.
var queryVersions = map[string]string{"2011-01-01": "autoscaling", "2010-03-31": "sns"}

// jsonTargets names the service of a JSON 1.1 request by its target's
// prefix.
var jsonTargets = map[string]string{"AmazonSSM": "ssm", "AWSEvents": "events", "AmazonSQS": "sqs"}

// cborPrefix starts the path of CloudWatch's RPC v2 CBOR requests.
const cborPrefix = "/service/GraniteServiceVersion20100801/operation/"

// decode reads r as a call of one of the protocols.
func decode(r *http.Request) (protocol, Call, error) {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" { // CloudWatch compresses PutMetricData
		z, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, Call{}, fmt.Errorf("gzip body: %w", err)
		}
		in = z
	}
	body, err := io.ReadAll(in)
	if err != nil {
		return nil, Call{}, err
	}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		prefix, action, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		svc, ok := jsonTargets[prefix]
		if !ok {
			return nil, Call{}, fmt.Errorf("unknown target %q", prefix)
		}
		params := map[string]any{}
		if err := json.Unmarshal(body, &params); err != nil {
			return nil, Call{}, fmt.Errorf("json body: %w", err)
		}
		return jsonProtocol{}, Call{Service: svc, Action: action, Params: params}, nil
	case strings.HasPrefix(r.URL.Path, cborPrefix):
		v, err := cbor.Decode(body)
		if err != nil {
			return nil, Call{}, fmt.Errorf("cbor body: %w", err)
		}
		params, _ := plain(v).(map[string]any)
		return cborProtocol{}, Call{Service: "cloudwatch", Action: strings.TrimPrefix(r.URL.Path, cborPrefix), Params: params}, nil
	}
	vals, err := parseForm(body)
	if err != nil {
		return nil, Call{}, err
	}
	svc, ok := queryVersions[vals.Get("Version")]
	if !ok {
		return nil, Call{}, fmt.Errorf("unknown request: %s %s, version %q", r.Method, r.URL.Path, vals.Get("Version"))
	}
	params := map[string]any{}
	for k, v := range vals {
		if k != "Action" && k != "Version" {
			params[k] = v[0]
		}
	}
	return queryProtocol{}, Call{Service: svc, Action: vals.Get("Action"), Params: params}, nil
}

// jsonProtocol is AWS JSON 1.1.
type jsonProtocol struct{}

func (jsonProtocol) write(w http.ResponseWriter, _ Call, resp any) {
	if resp == nil {
		resp = struct{}{}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(resp)
}

func (jsonProtocol) writeError(w http.ResponseWriter, _ Call, e *APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

// queryProtocol is the AWS Query protocol: a form in, XML out.
type queryProtocol struct{}

func (queryProtocol) write(w http.ResponseWriter, c Call, resp any) {
	inner, _ := resp.(string)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, "<%[1]sResponse><%[1]sResult>%[2]s</%[1]sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%[1]sResponse>",
		c.Action, inner)
}

func (queryProtocol) writeError(w http.ResponseWriter, _ Call, e *APIError) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>",
		escape(e.Code), escape(e.Message))
}

// cborProtocol is Smithy RPC v2 CBOR.
type cborProtocol struct{}

func (cborProtocol) write(w http.ResponseWriter, _ Call, _ any) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(cbor.Encode(cbor.Map{}))
}

func (cborProtocol) writeError(w http.ResponseWriter, _ Call, e *APIError) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(e.Status)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)}))
}

// escape returns s escaped for XML text.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
