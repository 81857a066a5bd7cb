package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/internal/latencyfs"
	"github.com/efsync/efsync/internal/testtree"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate/aws"
)

// agentBin builds examples/agent once: the agent the instances run.
var agentBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "efsync-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../agent").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the agent: %w: %s", err, out)
	}
	return bin, nil
})

// bigSize is the size of src/zbig/big, the file whose first read
// latencyfs holds, so that a backup is still running when its window
// ends.
const bigSize = 8 << 20

// e2e is the end-to-end test's world: the stack, the Lambda, the source
// file system (latencyfs over backing/src) and the agent binary.
type e2e struct {
	*stack
	h       *Handler
	vars    map[string]string
	m       *latencyfs.Mount
	backing string
	repo    string
	bin     string
	home    string
	last    time.Time // the last start's time
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	bin, err := agentBin()
	if err != nil {
		t.Fatal(err)
	}
	w := &e2e{stack: newStack(t), backing: testtree.TempDir(t), repo: filepath.Join(t.TempDir(), "repo"), bin: bin, home: t.TempDir()}
	src := filepath.Join(w.backing, "src")
	for d := range 3 {
		for f := range 4 {
			name := filepath.Join(src, fmt.Sprintf("d%d", d), fmt.Sprintf("f%d", f))
			os.MkdirAll(filepath.Dir(name), 0o755)
			if err := os.WriteFile(name, []byte(strings.Repeat(name, 50)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.MkdirAll(filepath.Join(src, "zbig"), 0o755)
	if err := os.WriteFile(filepath.Join(src, "zbig", "big"), bytes.Repeat([]byte("efsync!"), bigSize/7+1)[:bigSize], 0o644); err != nil {
		t.Fatal(err)
	}
	w.m = latencyfs.Start(t, w.backing, latencyfs.Options{})
	w.vars = map[string]string{
		"EFSYNC_GROUP": stackGroup, "EFSYNC_HOOK": stackHook, "EFSYNC_TABLE": w.table, "EFSYNC_BUCKET": stackBucket,
		"EFSYNC_TOPIC":        "arn:aws:sns:eu-west-1:123456789012:efsync",
		"EFSYNC_TIMER_TARGET": "arn:aws:lambda:eu-west-1:123456789012:function:efsync-orchestrator",
		"EFSYNC_RULE_PREFIX":  "efsync-window-", "EFSYNC_AGENT_PATH": bin,
		"EFSYNC_SOURCE": w.m.Dir() + "/src", "EFSYNC_REPO": w.repo, "EFSYNC_WINDOW": "1h", "EFSYNC_MARGIN": "5m", "EFSYNC_KEEP": "3",
	}
	w.h = w.lambda(t, w.vars)
	return w
}

// start sends the schedule's event for now, and returns the new id.
func (w *e2e) start(t *testing.T) string {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Second)
	if !at.After(w.last) { // a night of its own: its own slot
		at = w.last.Add(time.Second)
	}
	w.last = at
	ev := strings.Replace(readFile(t, "scheduled.json"), "2030-03-01T02:00:00Z", at.Format(time.RFC3339), 1)
	res := invoke(t, w.h, ev)
	if len(res.IDs) != 1 {
		t.Fatalf("start: %+v", res)
	}
	return res.IDs[0]
}

// agent starts the agent as the instance's unit does; wait returns its
// exit code and output.
func (w *e2e) agent(t *testing.T) (*os.Process, func() (int, string)) {
	t.Helper()
	return w.agentOn(t, w.agentEnv(w.home))
}

// agentOn starts the agent with env, and extra flags.
func (w *e2e) agentOn(t *testing.T, env []string, extra ...string) (*os.Process, func() (int, string)) {
	t.Helper()
	args := append([]string{"run", "--aws", "--table", w.table, "--bucket", stackBucket, "--group", stackGroup,
		"--hook", stackHook, "--window", "1h", "--keep", "3", "--complete-wait", "30s", "-v"}, extra...)
	cmd := exec.Command(w.bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd.Process, func() (int, string) {
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), out.String()
	}
}

// record returns the catalog's record of id.
func (w *e2e) record(t *testing.T, id string) efsync.Record {
	t.Helper()
	rec, err := w.h.d.Backends.Catalog.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// desired returns the desired capacities asked of the group, in order.
func (w *e2e) desired() []string {
	var out []string
	for _, c := range w.fake.Calls("autoscaling:UpdateAutoScalingGroup") {
		out = append(out, c.Param("DesiredCapacity"))
	}
	return out
}

// holdBig makes latencyfs hold the first read of src/zbig/big for d, and
// returns a func that waits until a read has begun. It gives big a new
// mtime, so that the backup copies it, not links it to the last
// snapshot's.
func (w *e2e) holdBig(t *testing.T, d time.Duration) func() {
	t.Helper()
	mtime := time.Now().Add(time.Duration(len(w.fake.Calls())) * time.Second)
	if err := os.Chtimes(filepath.Join(w.backing, "src", "zbig", "big"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := w.m.SetFaults([]latencyfs.Fault{{Op: "read", Path: "src/zbig/big", Delay: d, Times: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.m.Reset(); err != nil {
		t.Fatal(err)
	}
	return func() {
		for end := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			c, err := w.m.Counts()
			if err != nil {
				t.Fatal(err)
			}
			if c.Ops["read"] > 0 {
				return
			}
			if time.Now().After(end) {
				t.Fatal("the agent read nothing in a minute")
			}
		}
	}
}

// noPartialFile fails t for a file in the repository under big's real
// name that is not whole, and for a temporary file left behind.
func (w *e2e) noPartialFile(t *testing.T) {
	t.Helper()
	filepath.WalkDir(w.repo, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, _ := d.Info()
		switch {
		case strings.HasPrefix(d.Name(), ".efsync-") && fi.Mode().IsRegular() && !strings.Contains(p, "/.efsync"):
			t.Errorf("temporary file left: %s", p)
		case d.Name() == "big" && fi.Size() != bigSize:
			t.Errorf("a partial file under its real name: %s, %d bytes of %d", p, fi.Size(), bigSize)
		}
		return nil
	})
}

// TestEndToEnd runs issue 10's nights on a stack on this machine (see
// stack): the Lambda in this process, the agent as a real process
// backing up a local folder, every AWS call to a real HTTP endpoint.
// Then it compares the IAM actions template.json grants with the
// operations the code called.
func TestEndToEnd(t *testing.T) {
	w := newE2E(t)
	var night2 string
	t.Run("a night that hits the window", w.nightHitsWindow)
	t.Run("a second night, finishing early", func(t *testing.T) { night2 = w.nightFinishesEarly(t) })
	t.Run("SIGTERM stops the agent gracefully", w.sigterm)
	t.Run("a restore request", func(t *testing.T) { w.restore(t, night2) })
	t.Run("a repeated start delivery", w.repeatedStart)
	t.Run("a failed run leaves its log", w.failedRun)
	t.Run("three agents share a night", w.sharedNight)
	t.Run("a start that failed, retried", w.startRetried)
	t.Run("a stop before the agent runs", w.stopBeforeAgent)
	if t.Failed() {
		return // the operations of a run cut short are not all the code calls
	}
	t.Run("IAM grants each role what its code called", func(t *testing.T) {
		tpl := readTemplate(t)
		for role, key := range map[string]string{"FunctionRole": functionKey, "InstanceRole": agentKey} {
			called := append(w.fake.OpsBy(key), w.rec.Ops(key)...)
			t.Logf("%s called: %v", role, called)
			checkIAM(t, tpl, role, called)
		}
		if other := slices.DeleteFunc(w.fake.Calls(), func(c awsfake.Call) bool {
			return c.AccessKey == functionKey || c.AccessKey == agentKey
		}); len(other) > 0 {
			t.Errorf("calls by neither role: %+v", other)
		}
	})
}

// nightHitsWindow: the start scales the group to 1; the agent backs up
// (its read held, so it outlasts the window); the window's end scales
// to 0; the lifecycle event sends the SSM stop, which the test runs as
// the SSM agent would; the agent stops gracefully, flushes and completes
// the lifecycle action; the instance's end reports Incomplete.
func (w *e2e) nightHitsWindow(t *testing.T) {
	began := w.holdBig(t, 5*time.Second)
	id := w.start(t)
	if got := w.desired(); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("after the start, desired capacities %v, want [1]", got)
	}
	_, wait := w.agent(t)
	began()

	// The Timer's rule: its target's input is the id alone.
	targets := w.fake.Calls("events:PutTargets")
	if len(targets) != 1 {
		t.Fatalf("%d PutTargets, want 1", len(targets))
	}
	input := targets[0].Params["Targets"].([]any)[0].(map[string]any)["Input"].(string)
	if want, _ := json.Marshal(aws.TimerEvent{WindowEnd: id}); input != string(want) {
		t.Errorf("the rule's input %s, want %s: the id alone", input, want)
	}
	invoke(t, w.h, input)
	if got := w.desired(); !slices.Equal(got, []string{"1", "0"}) {
		t.Fatalf("after the window's end, desired capacities %v, want [1 0]", got)
	}

	res := invoke(t, w.h, readFile(t, "terminate_action.json"))
	sends := w.fake.Calls("ssm:SendCommand")
	if len(sends) != 1 || !slices.Equal(res.IDs, []string{id}) {
		t.Fatalf("terminating: %+v, %d SendCommand", res, len(sends))
	}
	cmd := sends[0].Params["Parameters"].(map[string]any)["commands"].([]any)[0].(string)
	if want := w.bin + " stop --id " + id; cmd != want {
		t.Errorf("SSM command %q, want %q", cmd, want)
	}
	ssm := exec.Command("sh", "-c", cmd) // as AWS-RunShellScript runs it
	ssm.Env = w.agentEnv(w.home)
	if out, err := ssm.CombinedOutput(); err != nil {
		t.Fatalf("the SSM command: %v: %s", err, out)
	}
	code, out := wait()
	if code != 3 {
		t.Fatalf("agent: exit %d, want 3 (Incomplete)\n%s", code, out)
	}
	if c := w.fake.Calls("autoscaling:CompleteLifecycleAction"); len(c) != 1 || c[0].Param("InstanceId") != stackInstance ||
		c[0].Param("LifecycleActionResult") != "CONTINUE" {
		t.Errorf("CompleteLifecycleAction: %+v, want one for %s", c, stackInstance)
	}
	w.noPartialFile(t)

	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	rec := w.record(t, id)
	if rec.Status != kpi.StatusIncomplete || rec.Host != stackInstance || !reported(rec) {
		t.Errorf("record: status %q host %q reported %v, want incomplete, %s, reported", rec.Status, rec.Host, reported(rec), stackInstance)
	}
	w.checkItem(t, id, rec)
	keys, text := w.logs(t, id)
	if len(keys) < 2 || !strings.Contains(text, `"by":"agent"`) || !strings.Contains(text, `"status":"incomplete"`) {
		t.Errorf("logs in S3: %q\n%s", keys, text)
	}
	pubs := w.fake.Calls("sns:Publish")
	if len(pubs) != 1 || !strings.Contains(fmt.Sprint(pubs[0].Params), "ncomplete") {
		t.Errorf("SNS: %+v, want one notice saying Incomplete", pubs)
	}
	if len(w.fake.Calls("cloudwatch:PutMetricData")) != 1 {
		t.Errorf("metrics: %d PutMetricData, want 1", len(w.fake.Calls("cloudwatch:PutMetricData")))
	}
}

// checkItem checks the item of id as DynamoDB holds it: the seed's KPIs
// as Numbers, the status, and the TTL a Number (the seed wrote a String,
// which TTL ignores).
func (w *e2e) checkItem(t *testing.T, id string, rec efsync.Record) {
	t.Helper()
	item := w.item(t, id)
	ttl, ok := item[aws.TTLAttribute]["N"].(string)
	if !ok {
		t.Errorf("%s is %v, want a Number", aws.TTLAttribute, item[aws.TTLAttribute])
	} else if want := fmt.Sprint(rec.Start.Add(90 * 24 * time.Hour).Unix()); ttl != want {
		t.Errorf("%s = %s, want %s: 90 days after the start", aws.TTLAttribute, ttl, want)
	}
	for _, a := range []string{"NumberOfFiles", "NumberOfFilesTransferred", "TotalFileSize", "TotalTransferredFileSize"} {
		if _, ok := item[a]["N"]; !ok {
			t.Errorf("KPI %s is %v, want a Number", a, item[a])
		}
	}
}

// nightFinishesEarly: the backup ends within its window: the agent scales
// its group to 0 and completes its lifecycle action itself, the status is
// Success, and no notice goes out (none asked for).
func (w *e2e) nightFinishesEarly(t *testing.T) string {
	if err := w.m.SetFaults(nil); err != nil {
		t.Fatal(err)
	}
	scaled, completed, pubs := len(w.desired()), len(w.fake.Calls("autoscaling:CompleteLifecycleAction")), len(w.fake.Calls("sns:Publish"))
	id := w.start(t)
	_, wait := w.agent(t)
	if code, out := wait(); code != 0 {
		t.Fatalf("agent: exit %d\n%s", code, out)
	}
	if got := w.desired()[scaled:]; !slices.Equal(got, []string{"1", "0"}) {
		t.Errorf("desired capacities %v, want [1 0]: the agent scales in", got)
	}
	if n := len(w.fake.Calls("autoscaling:CompleteLifecycleAction")) - completed; n != 1 {
		t.Errorf("%d CompleteLifecycleAction, want 1", n)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	rec := w.record(t, id)
	if rec.Status != kpi.StatusSuccess || rec.Snapshot == "" || !reported(rec) {
		t.Errorf("record: %q snapshot %q reported %v, want success", rec.Status, rec.Snapshot, reported(rec))
	}
	if n := len(w.fake.Calls("sns:Publish")) - pubs; n != 0 {
		t.Errorf("%d notices after a success none asked for", n)
	}
	return id
}

// sigterm: SIGTERM (systemd's stop of the unit, a shutdown) stops the
// agent as the SSM stop does: the copy in flight ends or is undone, no
// partial file is left under a real name, the record is Incomplete and
// flushed with the log, and the lifecycle action completed. The seed's
// SIGTERM killed the wrapper and orphaned rsync.
func (w *e2e) sigterm(t *testing.T) {
	began := w.holdBig(t, 5*time.Second)
	id := w.start(t)
	proc, wait := w.agent(t)
	began()
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, out := wait(); code != 3 {
		t.Fatalf("agent: exit %d, want 3 (Incomplete)\n%s", code, out)
	}
	w.noPartialFile(t)
	if rec := w.record(t, id); rec.Status != kpi.StatusIncomplete {
		t.Errorf("record: %q, want incomplete", rec.Status)
	}
	if _, text := w.logs(t, id); !strings.Contains(text, `"status":"incomplete"`) {
		t.Errorf("log without the job's end:\n%s", text)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
}

// scan scans root with content hashes.
func scan(t *testing.T, root string) testtree.Snapshot {
	t.Helper()
	s, err := testtree.Scan(t.Context(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restore: a restore request of a directory of night's snapshot runs on
// an agent into a new directory of the source, and deletes nothing.
func (w *e2e) restore(t *testing.T, night string) {
	if night == "" {
		t.Skip("no backup to restore from")
	}
	src := filepath.Join(w.backing, "src")
	before := scan(t, src)
	res := invoke(t, w.h, `{"restore":{"id":"`+night+`","path":"d1","target":"restored/d1"}}`)
	_, wait := w.agent(t)
	if code, out := wait(); code != 0 {
		t.Fatalf("agent: exit %d\n%s", code, out)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	if rec := w.record(t, res.IDs[0]); rec.Status != kpi.StatusSuccess {
		t.Errorf("restore record: %q %s", rec.Status, rec.Reason)
	}
	for f := range 4 {
		want, _ := os.ReadFile(filepath.Join(src, "d1", fmt.Sprintf("f%d", f)))
		got, err := os.ReadFile(filepath.Join(src, "restored", "d1", fmt.Sprintf("f%d", f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("restored d1/f%d: %v", f, err)
		}
	}
	for _, d := range testtree.CompareSnapshots(before, scan(t, src), testtree.CompareOptions{}) {
		if d.Path != "." && d.Path != "" && !strings.HasPrefix(d.Path, "restored") { // the root's times change: it has a new directory
			t.Errorf("the restore changed the source outside its target: %s", d)
		}
	}
}

// repeatedStart: a scheduled event delivered twice, at once, to two
// containers: one starts the backup, the other's record is refused its
// slot (ErrClaimed) and removed, and it starts nothing.
func (w *e2e) repeatedStart(t *testing.T) {
	other := w.lambda(t, w.vars)
	at := w.last.Add(time.Second)
	id := efsync.NewBackupID(at)
	rec := efsync.Record{ID: id, Label: efsync.DefaultLabel, Source: w.vars["EFSYNC_SOURCE"], Repo: w.repo, Start: at}
	first := efsync.Record{ID: efsync.NewBackupID(at), Label: rec.Label, Source: rec.Source, Repo: rec.Repo, Start: at}
	if err := other.d.Backends.Catalog.Put(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	if err := w.h.d.Backends.Catalog.Put(t.Context(), rec); !errors.Is(err, aws.ErrClaimed) {
		t.Errorf("the second record of a slot: %v, want ErrClaimed", err)
	}
	if item := w.item(t, id); len(item) != 0 {
		t.Errorf("the refused record is still there: %v", item)
	}
	first.Status, first.Stop = kpi.StatusFailed, time.Now()
	if err := other.d.Backends.Catalog.Put(t.Context(), first); err != nil {
		t.Fatal(err)
	}
}

// failedRun: a backup whose source is gone fails, and its log is in S3
// all the same, with its record (the seed's failed runs left none).
func (w *e2e) failedRun(t *testing.T) {
	vars := maps.Clone(w.vars)
	vars["EFSYNC_SOURCE"] = filepath.Join(w.backing, "gone")
	h := w.h
	w.h = w.lambda(t, vars)
	defer func() { w.h = h }()
	id := w.start(t)
	_, wait := w.agent(t)
	if code, out := wait(); code == 0 {
		t.Fatalf("agent: exit 0 for a missing source\n%s", out)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	if rec := w.record(t, id); rec.Status != kpi.StatusFailed || rec.Reason == "" {
		t.Errorf("record: %q %q, want failed, with the reason", rec.Status, rec.Reason)
	}
	if keys, text := w.logs(t, id); !strings.Contains(text, `"by":"agent"`) || !strings.Contains(text, `"status":"failed"`) {
		t.Errorf("the failed run's log in S3 %q:\n%s", keys, text)
	}
}

// checkIAM compares the actions the template's role grants with the
// operations it called, plus those the platform needs of it.
func checkIAM(t *testing.T, tpl *template, role string, called []string) {
	t.Helper()
	actions, errs := iamActions(tpl, role)
	for _, err := range errs {
		t.Error(err)
	}
	want := append(slices.Clone(called), platformActions[role]...)
	slices.Sort(want)
	want = slices.Compact(want)
	if d := cmp.Diff(want, actions); d != "" {
		t.Errorf("%s's IAM actions (-called +granted):\n%s", role, d)
	}
}

// startRetried: a start whose scale-out Auto Scaling refuses fails (the
// record Failed, a notice, the error to Lambda, which retries the
// event); the retry of that same event starts the backup anew, under a
// new id, in the slot the failed start gave up, and it runs.
func (w *e2e) startRetried(t *testing.T) {
	failed := false
	w.fake.Handle("autoscaling:UpdateAutoScalingGroup", func(awsfake.Call) (any, *awsfake.APIError) {
		if !failed {
			failed = true
			return nil, &awsfake.APIError{Status: 400, Code: "ScalingActivityInProgress", Message: "Scaling activity is in progress"}
		}
		return "", nil
	})
	at := w.last.Add(time.Second)
	w.last = at
	ev := json.RawMessage(strings.Replace(readFile(t, "scheduled.json"), "2030-03-01T02:00:00Z", at.Format(time.RFC3339), 1))
	res, err := w.h.Handle(t.Context(), ev)
	if err == nil || len(res.IDs) != 1 {
		t.Fatalf("the failed start: %+v, %v; want an error, for Lambda to retry", res, err)
	}
	first := w.record(t, res.IDs[0])
	if first.Status != kpi.StatusFailed || !strings.Contains(first.Reason, "ScalingActivityInProgress") {
		t.Errorf("the failed start's record: %q %q", first.Status, first.Reason)
	}
	retry := invoke(t, w.h, string(ev))
	if len(retry.IDs) != 1 || retry.IDs[0] == first.ID || retry.Note != "" {
		t.Fatalf("the retry: %+v; want a new backup, not %s", retry, first.ID)
	}
	_, wait := w.agent(t)
	if code, out := wait(); code != 0 {
		t.Fatalf("agent: exit %d\n%s", code, out)
	}
	invoke(t, w.h, readFile(t, "terminate_successful.json"))
	if rec := w.record(t, retry.IDs[0]); rec.Status != kpi.StatusSuccess || rec.Host != stackInstance || rec.Snapshot == "" {
		t.Errorf("the retried backup: %q %q on %q, snapshot %q; want success", rec.Status, rec.Reason, rec.Host, rec.Snapshot)
	}
}
