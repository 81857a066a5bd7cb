package aws

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/internal/awsfake"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
	"github.com/efsync/efsync/orchestrate/orchestratetest"
)

// TestSuite runs the behaviour suite on the AWS backends: every call goes
// through the SDK to the endpoints of newEnv, where players stand in for
// what AWS would do on its own: the instance's agent, the rules' firing
// and the terminate hook. All of the suite applies.
func TestSuite(t *testing.T) {
	orchestratetest.Run(t, newSuiteHarness)
}

// newSuiteHarness returns the suite's harness over a new testEnv.
func newSuiteHarness(t *testing.T) *orchestratetest.Harness {
	e := newEnv(t, true)
	events := make(chan orchestrate.Event, 64)
	clock := orchestratetest.NewFakeClock(e.now)
	agent := &agentPlayer{cat: e.b.Catalog.(*Catalog), events: events, runs: map[string]*heldRun{}, booted: map[string]bool{}}
	rules := &rulePlayer{t: t, clock: clock, events: events, schedules: map[string]time.Time{}, stops: map[string]func() bool{}}
	e.fake.Handle("autoscaling:UpdateAutoScalingGroup", agent.scale)
	e.fake.Handle("ssm:SendCommand", agent.command)
	e.fake.Handle("events:PutRule", rules.putRule)
	e.fake.Handle("events:PutTargets", rules.putTargets)
	e.fake.Handle("events:DeleteRule", rules.deleteRule)
	return &orchestratetest.Harness{
		Plan:     orchestrate.Plan{Label: "daily", Source: "/mnt/src", Repo: "/mnt/dst", Window: time.Hour},
		Backends: e.b, Clock: clock, Events: events,
		Notices: func() []orchestrate.Notice {
			var out []orchestrate.Notice
			for _, c := range e.fake.Calls("sns:Publish") {
				var n orchestrate.Notice
				if err := json.Unmarshal([]byte(c.Param("Message")), &n); err != nil {
					t.Errorf("an SNS message that is no notice: %v", err)
				}
				out = append(out, n)
			}
			return out
		},
		Hold: agent.setHold, Kill: agent.kill,
		Log: func(id string) string {
			_, text := e.objects(t, LogPrefix+"daily/"+id+"/")
			return text
		},
	}
}

// agentPlayer plays the instances of the group and their agent, as
// `agent run --aws` does: a scale-out boots one, which reads its job
// from the catalog, records it running, and ends it at once or, while
// held, when the SSM stop comes; a scale-in with a backup running fires
// the terminate hook, whose event the Lambda turns into a StopRequested.
type agentPlayer struct {
	cat    *Catalog
	events chan<- orchestrate.Event

	boots sync.WaitGroup // instances booting: a scale-in waits for them, as the hook fires for them too

	mu     sync.Mutex
	hold   bool
	runs   map[string]*heldRun // held backups, by id
	booted map[string]bool     // the jobs an instance took
}

type heldRun struct{ rec efsync.Record }

func (a *agentPlayer) setHold(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold = on
}

// scale answers UpdateAutoScalingGroup.
func (a *agentPlayer) scale(c awsfake.Call) (any, *awsfake.APIError) {
	if c.Param("DesiredCapacity") != "0" {
		a.boots.Go(a.boot)
		return nil, nil
	}
	a.boots.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.runs {
		a.events <- orchestrate.StopRequested{ID: id, By: "lifecycle hook"}
	}
	return nil, nil
}

// boot runs the newest job no instance has taken.
func (a *agentPlayer) boot() {
	ctx := context.Background()
	jobs, err := a.cat.Jobs(ctx)
	if err != nil || len(jobs) == 0 {
		panic("agent player: no job to run: " + errString(err))
	}
	job := jobs[len(jobs)-1]
	a.mu.Lock()
	if a.booted[job.ID] {
		a.mu.Unlock()
		return
	}
	a.booted[job.ID] = true
	hold := a.hold
	a.mu.Unlock()
	rec := efsync.Record{ID: job.ID, Label: job.Plan.Label, Source: job.Plan.Source, Repo: job.Plan.Repo,
		Host: "i-fake", Start: job.Start.UTC()}
	if err := a.cat.Put(ctx, rec); err != nil {
		a.events <- orchestrate.AgentReport{ID: job.ID, Err: err}
		return
	}
	if !hold {
		a.end(rec, kpi.StatusSuccess, "")
		return
	}
	// As the agent does: it listens for agent stop, then reads the stop
	// requests that came before, as SSM sends none to a booting instance.
	a.mu.Lock()
	a.runs[job.ID] = &heldRun{rec: rec}
	a.mu.Unlock()
	if _, asked, err := a.cat.StopRequested(ctx, job.ID); err != nil || asked {
		a.stop(job.ID)
	}
}

// stop ends the held backup id, stopped, unless it has ended.
func (a *agentPlayer) stop(id string) {
	a.mu.Lock()
	r := a.runs[id]
	delete(a.runs, id)
	a.mu.Unlock()
	if r != nil {
		go a.end(r.rec, kpi.StatusIncomplete, "stopped")
	}
}

// command answers SendCommand: `AGENT stop --id ID` stops ID if it runs.
func (a *agentPlayer) command(c awsfake.Call) (any, *awsfake.APIError) {
	cmds, _ := c.Params["Parameters"].(map[string]any)["commands"].([]any)
	var id string
	if len(cmds) == 1 {
		_, id, _ = strings.Cut(cmds[0].(string), " stop --id ")
	}
	a.stop(id)
	return map[string]any{"Command": map[string]any{"CommandId": "cmd"}}, nil
}

// kill ends the backup id as a crash would: no record, no report.
func (a *agentPlayer) kill(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.runs, id)
}

// end records rec as ended and reports it.
func (a *agentPlayer) end(rec efsync.Record, status kpi.Status, reason string) {
	rec.Status, rec.Reason, rec.Stop = status, reason, time.Now().UTC()
	err := a.cat.Put(context.Background(), rec)
	a.events <- orchestrate.AgentReport{ID: rec.ID, Record: &rec, Err: err}
}

// rulePlayer plays EventBridge: a rule's target fires on the fake clock at
// its schedule, with only its Input to go on, until the rule is deleted.
type rulePlayer struct {
	t      *testing.T
	clock  *orchestratetest.FakeClock
	events chan<- orchestrate.Event

	mu        sync.Mutex
	schedules map[string]time.Time
	stops     map[string]func() bool
}

func (p *rulePlayer) putRule(c awsfake.Call) (any, *awsfake.APIError) {
	at, err := parseScheduleAt(c.Param("ScheduleExpression"))
	if err != nil {
		p.t.Error(err)
		return nil, &awsfake.APIError{Status: 400, Code: "ValidationException", Message: err.Error()}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.schedules[c.Param("Name")] = at
	return map[string]any{"RuleArn": "arn:aws:events:us-east-1:000000000000:rule/" + c.Param("Name")}, nil
}

func (p *rulePlayer) putTargets(c awsfake.Call) (any, *awsfake.APIError) {
	name := c.Param("Rule")
	input, _ := c.Params["Targets"].([]any)[0].(map[string]any)["Input"].(string)
	ev, ok := ParseTimerEvent([]byte(input))
	if !ok {
		p.t.Errorf("rule %s: input %q is no timer event", name, input)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stops[name] = p.clock.AfterFunc(p.schedules[name].Sub(p.clock.Now()), func() { p.events <- ev })
	return map[string]any{"FailedEntryCount": 0}, nil
}

func (p *rulePlayer) deleteRule(c awsfake.Call) (any, *awsfake.APIError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stop := p.stops[c.Param("Name")]; stop != nil {
		stop()
		delete(p.stops, c.Param("Name"))
		return nil, nil
	}
	return nil, &awsfake.APIError{Status: 400, Code: "ResourceNotFoundException", Message: "Rule " + c.Param("Name") + " does not exist."}
}

func errString(err error) string {
	if err == nil {
		return "none running"
	}
	return err.Error()
}

// TestTwoInvocationsOneStart: two orchestrators get one scheduled start
// at once, as EventBridge's at-least-once delivery or a Lambda retry
// makes: one backup starts (one scale-out, one rule), and the other
// invocation gets ErrClaimed.
func TestTwoInvocationsOneStart(t *testing.T) {
	h := newSuiteHarness(t)
	e := h.Backends
	at := h.Clock.Now()
	errs := make(chan error, 2)
	for range 2 {
		o, err := orchestrate.New(h.Plan, e, orchestrate.Options{Now: h.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_, err := o.Handle(t.Context(), orchestrate.ScheduleStart{At: at})
			errs <- err
		}()
	}
	var started, claimed int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			started++
		case errors.Is(err, ErrClaimed):
			claimed++
		default:
			t.Errorf("start: %v", err)
		}
	}
	if started != 1 || claimed != 1 {
		t.Errorf("%d started, %d refused as claimed; want 1 and 1", started, claimed)
	}
	recs, err := e.Catalog.List(t.Context())
	if err != nil || len(recs) != 1 {
		t.Errorf("records %+v (%v), want 1", recs, err)
	}
}
