package orchestrate

import (
	"fmt"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// Plan is what a scheduled backup does each time: a snapshot of Source in
// Repo under Label, within a window, then retention.
type Plan struct {
	Label  string
	Source string
	Repo   string
	// Window bounds each backup: it stops gracefully at its start plus
	// Window. 0 means no window.
	Window time.Duration
	// Margin brings the stop event forward, so that the agent has time
	// to flush its record and logs before the window's end.
	Margin time.Duration
	// Keep is the retention applied after each backup that made a
	// snapshot.
	Keep efsync.Retention
	// NotifySuccess sends a notice after a successful backup too; by
	// default only the others (partial, incomplete, failed) get one.
	NotifySuccess bool
	// Agents is how many agents share each job, through a queue (see
	// efsync.Options.Queue): the Fleet starts that many, one of which
	// leads. 0 leaves it to the Fleet (one, unless it says otherwise).
	Agents int
}

// validate reports a plan that can't run, as one line naming the cause.
func (p Plan) validate() error {
	switch {
	case p.Source == "" || p.Repo == "":
		return fmt.Errorf("plan: source and repository are required")
	case p.Agents < 0:
		return fmt.Errorf("plan: %d agents: want a positive count", p.Agents)
	case p.Window < 0 || p.Margin < 0:
		return fmt.Errorf("plan: window %s, margin %s: want positive durations", p.Window, p.Margin)
	case p.Window > 0 && p.Margin >= p.Window:
		return fmt.Errorf("plan: margin %s leaves nothing of the window %s", p.Margin, p.Window)
	}
	return nil
}

// Job is one backup of a Plan, as Fleet.Start gets it.
type Job struct {
	ID   string
	Plan Plan
	// Start is when the schedule started it.
	Start time.Time
	// Deadline is the window's end; zero without a window.
	Deadline time.Time
}

// Notice is what a Notifier sends about an ended backup.
type Notice struct {
	// Subject is one line for people: label, id, status and reason.
	Subject  string     `json:"subject"`
	ID       string     `json:"id"`
	Label    string     `json:"label"`
	Source   string     `json:"source"`
	Repo     string     `json:"repo"`
	Status   kpi.Status `json:"status"`
	Reason   string     `json:"reason,omitempty"`
	Start    time.Time  `json:"start"`
	Stop     time.Time  `json:"stop,omitzero"`
	Files    int64      `json:"files"`
	Bytes    int64      `json:"bytes"`
	Snapshot string     `json:"snapshot,omitempty"`
	// Log is where the backup's log is kept.
	Log string `json:"log,omitempty"`
}

// noticeOf returns the notice of rec, whose log is at log.
func noticeOf(rec efsync.Record, log string) Notice {
	subject := fmt.Sprintf("efsync backup %s %s: %s", rec.Label, rec.ID, rec.Status)
	if rec.Reason != "" {
		subject += " (" + rec.Reason + ")"
	}
	return Notice{Subject: subject, ID: rec.ID, Label: rec.Label, Source: rec.Source, Repo: rec.Repo,
		Status: rec.Status, Reason: rec.Reason, Start: rec.Start, Stop: rec.Stop,
		Files: rec.Files, Bytes: rec.Bytes, Snapshot: rec.Snapshot, Log: log}
}

// wantsNotice reports whether a backup that ended with status gets a
// notice: every status but success, and success when asked.
func wantsNotice(status kpi.Status, onSuccess bool) bool {
	return status != kpi.StatusSuccess || onSuccess
}
