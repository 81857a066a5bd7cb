// Package awsfake is a recording HTTP fake of the AWS APIs that nothing
// emulates here: Auto Scaling and SNS (the Query protocol, XML answers),
// SSM and EventBridge (JSON 1.1) and CloudWatch (Smithy RPC v2 CBOR). It
// speaks their wire protocols, so the real SDK clients are exercised, and
// records every call, so tests assert the exact calls made and compare
// them with the IAM actions a template grants.
//
// One Server serves all five services at one URL: the protocol and the
// service are told apart by the request (X-Amz-Target, the Query
// Version, the CBOR path). It checks no signature.
//
//	srv := awsfake.Start(t)
//	srv.Handle("autoscaling:CompleteLifecycleAction", func(c awsfake.Call) (any, *awsfake.APIError) {...})
//	... point SDK clients at srv.URL ...
//	srv.Calls("autoscaling:UpdateAutoScalingGroup") // what was asked, in order
//	srv.Ops()                                        // "ssm:SendCommand", ...
package awsfake

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Call is one recorded request.
type Call struct {
	// Service is the IAM prefix of the service: autoscaling, cloudwatch,
	// events, sns or ssm.
	Service string
	// Action is the operation, as in IAM: UpdateAutoScalingGroup.
	Action string
	// Params are the request's parameters: for the Query protocol each
	// flattened name ("Targets.member.1.Key") to its string value; for
	// JSON and CBOR the decoded document (numbers as float64, CBOR
	// timestamps as time.Time).
	Params map[string]any
	// AccessKey is the access key id the request was signed with (its
	// SigV4 Authorization's Credential): who called, when callers are
	// given keys of their own, as roles are.
	AccessKey string
}

// Op returns the call's IAM action, "service:Action".
func (c Call) Op() string { return c.Service + ":" + c.Action }

// APIError is an error answer: its HTTP status, the service's error
// code (ValidationError, ResourceNotFoundException) and message.
type APIError struct {
	Status  int
	Code    string
	Message string
}

// Handler answers a call: the response (for JSON a value marshalled as
// the JSON body; for Query the XML inside the <ActionResult> element, as
// a string; ignored for CBOR, whose answers are empty), or an error.
// Handlers run on the server's goroutines, one per request.
type Handler func(c Call) (resp any, err *APIError)

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	// URL is the base URL to give SDK clients as their endpoint.
	URL string

	// state
	mu       sync.Mutex
	calls    []Call
	handlers map[string]Handler
	srv      *httptest.Server
	ids      atomic.Int64 // numbers the ids of default answers
}

// Start starts a fake on a loopback port; it is closed when tb ends.
func Start(tb testing.TB) *Server {
	s := &Server{handlers: map[string]Handler{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Handle makes h answer the operation op ("ssm:SendCommand") from now on,
// instead of the default answer: a success with an empty or minimal
// result.
func (s *Server) Handle(op string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[op] = h
}

// Calls returns the calls recorded so far, oldest first: those of the
// operations ops, or all of them.
func (s *Server) Calls(ops ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op()) {
			out = append(out, c)
		}
	}
	return out
}

// OpsBy returns the distinct operations called so far with the access
// key key, sorted: the IAM actions the role behind that key needs.
func (s *Server) OpsBy(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		if c.AccessKey == key {
			out = append(out, c.Op())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Ops returns the distinct operations called so far, sorted: the IAM
// actions the code under test needs.
func (s *Server) Ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		out = append(out, c.Op())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AccessKey returns the access key id that signed r (SigV4), or "".
func AccessKey(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// serve decodes a request by its protocol, records it and answers it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p, call, err := decode(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call.AccessKey = AccessKey(r)
	s.mu.Lock()
	s.calls = append(s.calls, call)
	h := s.handlers[call.Op()]
	s.mu.Unlock()
	if h == nil {
		h = s.defaultHandler(call.Op())
	}
	resp, apiErr := h(call)
	if apiErr != nil {
		p.writeError(w, call, apiErr)
		return
	}
	p.write(w, call, resp)
}
