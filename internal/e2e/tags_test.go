package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// bigFleet is the sample fleet and n instances tagged team=big in
// cn-hangzhou, every tenth of them Running.
func bigFleet(t *testing.T, n int) (ecsemu.Fleet, map[string]string) {
	fl := fleet(t)
	statuses := map[string]string{}
	for i := range n {
		st := ecsemu.Stopped
		if i%10 == 0 {
			st = ecsemu.Running
		}
		id := fmt.Sprintf("i-bptagbig%06d", i)
		statuses[id] = st
		fl.Instances = append(fl.Instances, ecsemu.Instance{InstanceID: id, RegionID: "cn-hangzhou", Status: st,
			Tags: map[string]string{"team": "big"}})
	}
	return fl, statuses
}

// checkSelection asserts that a selection of the instances in statuses was
// carried out: each reported exactly once, the Stopped ones Started and
// nothing else sent to StartInstances (in calls of at most 100), the Running
// ones AlreadyRunning; and that every page of the lookup was read.
func checkSelection(t *testing.T, h *harness.Harness, r hresult.Result, statuses map[string]string) {
	t.Helper()
	seen := map[string]int{}
	for _, ir := range r.InstanceResponses.InstanceResponse {
		seen[ir.InstanceID]++
		want := hresult.Started
		if statuses[ir.InstanceID] == ecsemu.Running {
			want = hresult.AlreadyRunning
		}
		if ir.Outcome != want {
			t.Errorf("%s (%s): %s %s %s, want %s", ir.InstanceID, statuses[ir.InstanceID], ir.Outcome, ir.Code, ir.Message, want)
		}
	}
	for id := range statuses {
		if seen[id] != 1 {
			t.Errorf("%s reported %d times, want once", id, seen[id])
		}
	}
	if len(seen) != len(statuses) {
		t.Errorf("%d instances reported, want the %d selected", len(seen), len(statuses))
	}
	started, tokens := map[string]bool{}, 0
	for _, c := range h.ECS.Calls() {
		switch c.Action {
		case "StartInstances":
			if len(c.InstanceIDs) > 100 {
				t.Errorf("a StartInstances call of %d IDs", len(c.InstanceIDs))
			}
			for _, id := range c.InstanceIDs {
				if statuses[id] != ecsemu.Stopped || started[id] {
					t.Errorf("StartInstances sent %s (%s) again or though not Stopped", id, statuses[id])
				}
				started[id] = true
			}
		case "DescribeInstances":
			if c.NextToken != "" && c.HTTPStatus == http.StatusOK {
				tokens++
			}
			if len(c.Tags) > 0 && c.MaxResults != "100" {
				t.Errorf("a tag page with MaxResults %q, want 100", c.MaxResults)
			}
		}
	}
	stopped := 0
	for _, st := range statuses {
		if st == ecsemu.Stopped {
			stopped++
		}
	}
	if len(started) != stopped {
		t.Errorf("%d instances sent to StartInstances, want the %d Stopped", len(started), stopped)
	}
	if want := (len(statuses) - 1) / 100; tokens < want {
		t.Errorf("%d pages read by NextToken, want %d after the first", tokens, want)
	}
}

// A tag selecting 250 instances reads 3 pages and starts the Stopped ones
// only; the Running ones are AlreadyRunning with no StartInstances call.
func TestTagSelectionOverPages(t *testing.T) {
	t.Parallel()
	fl, statuses := bigFleet(t, 250)
	h := startWith(t, fl, nil, ecsemu.Options{})
	out := invoke(t, h, []byte(`{"regionId":"cn-hangzhou","tags":[{"key":"team","value":"big"}]}`))
	r := result(t, out)
	checkSelection(t, h, r, statuses)
	if s := r.Summary; s.Started != 225 || s.AlreadyRunning != 25 || s.Requested != 250 {
		t.Errorf("summary %+v, want 225 started and 25 already running", s)
	}
	if n := len(out.LogsOf("instance")); n != 250 {
		t.Errorf("%d instance log lines, want 250", n)
	}
}

// Throttled and failing tag pages are retried like StartInstances.
func TestTagSelectionThrottled(t *testing.T) {
	t.Parallel()
	fl, statuses := bigFleet(t, 250)
	h := startWith(t, fl, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Action: "DescribeInstances", Throttle: 3, Unavailable: 1})
	r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","tags":[{"key":"team","value":"big"}]}`)))
	checkSelection(t, h, r, statuses)
	faults := 0
	for _, c := range h.ECS.Calls() {
		if c.Action == "DescribeInstances" && c.Fault != "" {
			faults++
		}
	}
	if faults != 4 {
		t.Errorf("%d DescribeInstances calls were answered by a fault, want 4", faults)
	}
}

// Throttling that outlasts the deadline leaves the selection unread: nothing
// starts, the entry says why, and the invocation fails so that it is retried.
func TestTagSelectionLookupUnfinished(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Action: "DescribeInstances", Throttle: 1000})
	out := invoke(t, h, []byte(`{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev"}]}`), func(i *fcemu.Invocation) { i.Timeout = 4 * time.Second })
	if !out.IsError || out.ErrorType != "UnfinishedError" || !strings.Contains(out.ErrorMessage, "env=dev") {
		t.Fatalf("want an UnfinishedError naming the selection: %v %s %s", out.IsError, out.ErrorType, out.ErrorMessage)
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" {
			t.Fatalf("StartInstances called for an unread selection: %+v", c)
		}
	}
	ig := out.LogsOf("ignored")
	if len(ig) != 1 || ig[0]["code"] != "Throttling.User" || !strings.Contains(fmt.Sprint(ig[0]["reason"]), "safe to retry") {
		t.Fatalf("ignored lines: %v", ig)
	}
}

// Tags narrow named instances: one without them is Rejected and not sent.
func TestTagsNarrowInstanceIDs(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","i-bp1nobalance00001","i-bp1runningdemo001"],"tags":[{"key":"env","value":"dev"}]}`)))
	got := outcomes(r)
	if o := got["i-bp67acfmxazb4p0001"]; o.Outcome != hresult.Started {
		t.Errorf("the tagged instance: %+v", o)
	}
	for _, id := range []string{"i-bp1nobalance00001", "i-bp1runningdemo001"} {
		if o := got[id]; o.Outcome != hresult.Rejected || o.Code != hresult.CodeNotAllowed || !strings.Contains(o.Message, "env=dev") {
			t.Errorf("%s without the tag: %+v", id, o)
		}
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" && !slices.Equal(c.InstanceIDs, []string{"i-bp67acfmxazb4p0001"}) {
			t.Errorf("StartInstances sent %v", c.InstanceIDs)
		}
	}
}

// A selection that finds nothing is Ignored with a reason naming the region
// and the tags; a dry run with tags gives each instance's outcome; more than
// MAX_INSTANCES found refuses the request and starts nothing.
func TestTagSelectionOutcomes(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"MAX_INSTANCES": "20"}, ecsemu.Options{})
	t.Run("nothing found", func(t *testing.T) {
		h.ECS.ResetCalls()
		out := invoke(t, h, []byte(`{"regionId":"cn-beijing","tags":[{"key":"env","value":"prod"},{"key":"team"}]}`))
		r := result(t, out)
		if len(r.InstanceResponses.InstanceResponse) != 0 || len(r.Ignored) != 1 ||
			!strings.Contains(r.Ignored[0].Reason, "cn-beijing") || !strings.Contains(r.Ignored[0].Reason, "env=prod, team=*") || r.Ignored[0].Code != "" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("over MAX_INSTANCES", func(t *testing.T) {
		h.ECS.ResetCalls()
		r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev"}]}`))) // 21 instances
		if len(r.InstanceResponses.InstanceResponse) != 0 || len(r.Ignored) != 1 || r.Ignored[0].Code != hresult.CodeTooManyInstances ||
			r.Ignored[0].InstanceCount != 21 || !strings.Contains(r.Ignored[0].Reason, "env=dev") {
			t.Fatalf("result %+v", r)
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" {
				t.Fatalf("StartInstances called: %+v", c)
			}
		}
	})
	t.Run("dry run", func(t *testing.T) {
		h.ECS.ResetCalls()
		r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"prod"}],"dryRun":true}`)))
		got := outcomes(r)
		want := map[string]hresult.Outcome{"i-bp1runningdemo001": hresult.AlreadyRunning, "i-bp1stoppingdemo01": hresult.DryRunPassed,
			"i-bp1lockeddemo0001": hresult.Failed}
		if len(got) != len(want) {
			t.Fatalf("outcomes %+v", got)
		}
		for id, o := range want {
			if got[id].Outcome != o {
				t.Errorf("%s: %+v, want %s", id, got[id], o)
			}
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" && !c.DryRun {
				t.Fatalf("a real StartInstances call in a dry run: %+v", c)
			}
		}
	})
}

// timerEvent is a timer trigger's event whose payload is request.
func timerEvent(request string) []byte {
	return mustJSON(map[string]any{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "dev-morning", "payload": request})
}

// A wait that succeeds: the answer comes once every instance runs, over HTTP
// past HTTP_WAIT, and each log line says when it ran.
func TestWaitUntilRunning(t *testing.T) {
	t.Parallel()
	const delay = 2500 * time.Millisecond
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "1s"}, ecsemu.Options{StartDelay: delay})
	const req = `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0003"],"tags":[{"key":"env","value":"dev"}],"wait":true}`
	check := func(t *testing.T, r hresult.Result, lines []map[string]any) {
		t.Helper()
		got := outcomes(r)
		if o := got["i-bp67acfmxazb4p0001"]; o.Outcome != hresult.Started || o.CurrentStatus != "Running" {
			t.Errorf("started: %+v", o)
		}
		if o := got["i-bp67acfmxazb4p0003"]; o.Outcome != hresult.AlreadyRunning || o.CurrentStatus != "Running" {
			t.Errorf("already running: %+v", o)
		}
		for _, l := range lines {
			if l["instanceId"] != "i-bp67acfmxazb4p0001" {
				continue
			}
			if ms, ok := l["runningAfterMs"].(float64); !ok || ms < float64(delay.Milliseconds()) {
				t.Errorf("runningAfterMs %v, want at least %d", l["runningAfterMs"], delay.Milliseconds())
			}
		}
	}
	t.Run("http", func(t *testing.T) {
		reset(t, h)
		out := invoke(t, h, httpEvent(req, bearer(), nil))
		a := httpResult(t, out)
		if a.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
		check(t, a.Result, out.LogsOf("instance"))
	})
	t.Run("timer", func(t *testing.T) {
		reset(t, h)
		out := invoke(t, h, timerEvent(req))
		check(t, result(t, out), out.LogsOf("instance"))
	})
}

// A wait that times out: Unfinished with WaitTimeout and the status last
// seen; over HTTP a 503, from a timer an error, so that it is retried.
func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{StartDelay: -1}) // never Running
	const req = `{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev"}],"wait":"3s"}`
	t.Run("http", func(t *testing.T) {
		reset(t, h)
		a := httpResult(t, invoke(t, h, httpEvent(req, bearer(), nil)))
		if a.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
		for _, ir := range a.Result.InstanceResponses.InstanceResponse {
			if ir.InstanceID == "i-bp67acfmxazb4p0003" {
				if ir.Outcome != hresult.AlreadyRunning {
					t.Errorf("the running instance: %+v", ir)
				}
				continue
			}
			if ir.Outcome != hresult.Unfinished || ir.Code != hresult.CodeWaitTimeout || ir.CurrentStatus != "Starting" || !ir.Retryable {
				t.Errorf("%+v, want Unfinished WaitTimeout, last seen Starting", ir)
			}
		}
		if n := len(a.Result.InstanceResponses.InstanceResponse); n != 21 {
			t.Errorf("%d instances reported, want the 21 tagged env=dev in cn-hangzhou", n)
		}
	})
	t.Run("timer", func(t *testing.T) {
		reset(t, h)
		out := invoke(t, h, timerEvent(req))
		if !out.IsError || out.ErrorType != "UnfinishedError" || !strings.Contains(out.ErrorMessage, "(WaitTimeout)") {
			t.Fatalf("want an UnfinishedError naming WaitTimeout: %v %s %.300s", out.IsError, out.ErrorType, out.ErrorMessage)
		}
	})
}

// reset puts the sample fleet back as testdata/fleet.json describes it.
func reset(t *testing.T, h *harness.Harness) {
	t.Helper()
	for _, in := range fleet(t).Instances {
		if err := h.ECS.SetInstance(in); err != nil {
			t.Fatal(err)
		}
	}
	h.ECS.ResetCalls()
}
