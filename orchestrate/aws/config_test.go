package aws

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestInstanceID reads the instance id as IMDSv2 serves it: a session
// token first (PUT), then the id with the token; from the endpoint that
// AWS_EC2_METADATA_SERVICE_ENDPOINT names, as the end-to-end test gives
// the agent.
func TestInstanceID(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
		w.Write([]byte("tok"))
	})
	mux.HandleFunc("GET /latest/meta-data/instance-id", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("i-0598c7d356eba48d7"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := LoadConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	id, err := InstanceID(t.Context(), cfg)
	if err != nil || id != "i-0598c7d356eba48d7" {
		t.Errorf("InstanceID = %q, %v; want i-0598c7d356eba48d7", id, err)
	}
}
