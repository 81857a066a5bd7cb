package latencyfs

import (
	"encoding/json"
	"net/http"
	"time"
)

// The control API, served by the child on a unix socket:
//
//	GET  /counts  -> Counts as JSON
//	POST /reset      zero the counts
//	PUT  /faults  <- []Fault as JSON; replaces the faults
//	PUT  /delay   <- delays as JSON
//
// Errors answer 400 with the message as text.

// delays is the body of PUT /delay.
type delays struct {
	Delay, DataDelay time.Duration
}

// newControl returns the control API handler for pol.
func newControl(pol *policy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(pol.counts.snapshot()) // nothing to do if the client went away
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		pol.counts.reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var faults []Fault
		if err := json.NewDecoder(r.Body).Decode(&faults); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := pol.faults.set(faults); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /delay", func(w http.ResponseWriter, r *http.Request) {
		var d delays
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if d.Delay < 0 || d.DataDelay < 0 {
			http.Error(w, "negative delay", http.StatusBadRequest)
			return
		}
		pol.setDelay(d.Delay, d.DataDelay)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
