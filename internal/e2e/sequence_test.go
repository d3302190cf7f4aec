package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// seqFleet is the sample fleet (a database i-bpdatabase0001 and
// application servers tagged app=web in cn-hangzhou and, in account B, in
// cn-shanghai), with i-bpweb00000002 Running.
func seqFleet(t *testing.T) ecsemu.Fleet {
	fl := twoAccounts(t)
	for i := range fl.Instances {
		if fl.Instances[i].InstanceID == "i-bpweb00000002" {
			fl.Instances[i].Status = ecsemu.Running
		}
	}
	return fl
}

// The request: a database group in cn-hangzhou, then an application
// group by tag in cn-hangzhou and, through roleArn, in account B's
// cn-shanghai. Group 2 is never sent before the database is Running (the
// emulator keeps it Starting for a second), every instance is reported once,
// and the answer waits past HTTP_WAIT.
func TestSequenceStartsInOrder(t *testing.T) {
	t.Parallel()
	const delay = time.Second
	h := startWith(t, seqFleet(t), map[string]string{"ALLOWED_ROLE_ARNS": roleB, "HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "1s"},
		ecsemu.Options{StartDelay: delay})
	body := `{"sequence":[
		{"regionId":"cn-hangzhou","instanceIds":["i-bpdatabase0001"]},
		{"targets":[{"regionId":"cn-hangzhou","tags":[{"key":"app","value":"web"}]},
		            {"regionId":"cn-shanghai","roleArn":"` + roleB + `","tags":[{"key":"app","value":"web"}]}]}]}`
	a := httpResult(t, invoke(t, h, httpEvent(body, bearer(), nil)))
	got := outcomes(a.Result)
	want := map[string]hresult.Outcome{"i-bpdatabase0001": hresult.Started, "i-bpweb00000001": hresult.Started, "i-bpweb00000002": hresult.AlreadyRunning,
		"i-uf6acctb00001": hresult.Started, "i-uf6acctb00002": hresult.Started}
	if a.StatusCode != 200 || len(a.Result.InstanceResponses.InstanceResponse) != len(want) {
		t.Fatalf("%d %+v", a.StatusCode, a.Result)
	}
	for id, o := range want {
		if got[id].Outcome != o || got[id].CurrentStatus != "Running" {
			t.Errorf("%s: %+v, want %s and Running (every group waits)", id, got[id], o)
		}
	}
	if got["i-uf6acctb00001"].AccountID != accountB {
		t.Errorf("account B's instance without AccountId: %+v", got["i-uf6acctb00001"])
	}
	var dbStart time.Time
	for _, c := range h.ECS.Calls() {
		if c.Action != "StartInstances" {
			continue
		}
		if c.InstanceIDs[0] == "i-bpdatabase0001" {
			dbStart = c.Time
			continue
		}
		if dbStart.IsZero() || c.Time.Before(dbStart.Add(delay)) {
			t.Errorf("group 2 (%v) sent at %s, before the database was Running (started %s + %s)", c.InstanceIDs, c.Time.Format(time.StampMilli), dbStart.Format(time.StampMilli), delay)
		}
	}
	// A rerun resumes cheaply: everything is AlreadyRunning at once. The
	// named database is sent once (ECS answers IncorrectInstanceStatus, and
	// the lookup finds it Running, DESIGN §7); the tag-selected ones are
	// found Running and never sent.
	h.ECS.ResetCalls()
	a = httpResult(t, invoke(t, h, httpEvent(body, bearer(), nil)))
	if a.Result.Summary.AlreadyRunning != len(want) {
		t.Fatalf("rerun: %+v", a.Result.Summary)
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" && c.InstanceIDs[0] != "i-bpdatabase0001" {
			t.Errorf("rerun sent %v, which a lookup found Running", c.InstanceIDs)
		}
	}
}

// A failing group 1 skips group 2: its named instances and those its tags
// find (looked up read only) are Skipped with SequenceStopped, never sent;
// over HTTP that is a 207.
func TestSequenceStopsAfterAFailingGroup(t *testing.T) {
	t.Parallel()
	fl := seqFleet(t)
	fl.Instances = append(fl.Instances, ecsemu.Instance{InstanceID: "i-bpdbkmsoff001", RegionID: "cn-hangzhou", Status: ecsemu.Stopped, StartError: "InvalidParameter.KMSKeyId.CMKNotEnabled"})
	h := startWith(t, fl, map[string]string{"HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	body := `{"regionId":"cn-hangzhou","sequence":[
		{"instanceIds":["i-bpdatabase0001","i-bpdbkmsoff001"]},
		{"tags":[{"key":"app","value":"web"}]},
		{"instanceIds":["i-bp67acfmxazb4p0001"]}]}`
	a := httpResult(t, invoke(t, h, httpEvent(body, bearer(), nil)))
	got := outcomes(a.Result)
	if a.StatusCode != 207 || got["i-bpdbkmsoff001"].Outcome != hresult.Failed {
		t.Fatalf("%d %+v", a.StatusCode, a.Result)
	}
	for _, id := range []string{"i-bpweb00000001", "i-bpweb00000002", "i-bp67acfmxazb4p0001"} {
		ir := got[id]
		if ir.Outcome != hresult.Skipped || ir.Code != "SequenceStopped" || !strings.Contains(ir.Message, "sequence[0]") || !strings.Contains(ir.Message, "i-bpdbkmsoff001") {
			t.Errorf("%s: %+v, want Skipped naming sequence[0] and its failure", id, ir)
		}
	}
	if a.Result.Summary.Skipped != 3 || len(a.Result.InstanceResponses.InstanceResponse) != 5 {
		t.Errorf("summary %+v", a.Result.Summary)
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" && (c.InstanceIDs[0] == "i-bpweb00000001" || c.InstanceIDs[0] == "i-bp67acfmxazb4p0001") {
			t.Errorf("a Skipped instance was sent: %v", c.InstanceIDs)
		}
	}
}

// A defect in a group refuses the request whole, naming the group's field.
func TestSequenceValidation(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	a := httpResult(t, invoke(t, h, httpEvent(`{"sequence":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]},
		{"regionId":"cn-hangzhou","instanceIds":["i-bad"]}]}`, bearer(), nil)))
	if a.StatusCode != 400 || len(a.Error.Errors) == 0 || a.Error.Errors[0].Field != "sequence[1].instanceIds[0]" {
		t.Fatalf("%d %+v", a.StatusCode, a.Error)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d calls", n)
	}
}

// The deadline ends a sequence: a group that is not Running by then is
// Unfinished, the later groups are Skipped and never sent, and the answer is
// a 503 (something Unfinished outranks the Skipped) so that the caller
// retries; from a timer the invocation fails for FC to retry.
func TestSequenceEndsAtTheDeadline(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{StartDelay: -1}) // never Running
	const req = `{"regionId":"cn-hangzhou","sequence":[
		{"instanceIds":["i-bp67acfmxazb4p0001"]},
		{"instanceIds":["i-bp67acfmxazb4p0002"]}]}`
	check := func(t *testing.T, res hresult.Result) {
		t.Helper()
		got := outcomes(res)
		if ir := got["i-bp67acfmxazb4p0001"]; ir.Outcome != hresult.Unfinished || !ir.Retryable {
			t.Errorf("group 1: %+v, want Unfinished and retryable", ir)
		}
		if ir := got["i-bp67acfmxazb4p0002"]; ir.Outcome != hresult.Skipped || ir.Code != hresult.CodeSequenceStopped || !strings.Contains(ir.Message, "sequence[0]") {
			t.Errorf("group 2: %+v, want Skipped naming sequence[0]", ir)
		}
		if n := len(res.InstanceResponses.InstanceResponse); n != 2 {
			t.Errorf("%d instances reported, want 2", n)
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" && c.InstanceIDs[0] == "i-bp67acfmxazb4p0002" {
				t.Errorf("group 2 was sent: %v", c.InstanceIDs)
			}
		}
	}
	t.Run("http", func(t *testing.T) {
		reset(t, h)
		h.ECS.ResetCalls()
		a := httpResult(t, invoke(t, h, httpEvent(req, bearer(), nil), func(i *fcemu.Invocation) { i.Timeout = 3 * time.Second }))
		if a.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
		check(t, a.Result)
	})
	t.Run("timer", func(t *testing.T) {
		reset(t, h)
		h.ECS.ResetCalls()
		out := invoke(t, h, timerEvent(req), func(i *fcemu.Invocation) { i.Timeout = 3 * time.Second })
		if !out.IsError || out.ErrorType != "UnfinishedError" {
			t.Fatalf("want an UnfinishedError: %v %s %.300s", out.IsError, out.ErrorType, out.ErrorMessage)
		}
	})
}
