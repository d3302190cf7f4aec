package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

func testHandler(t *testing.T, env map[string]string, e ecsapi.ECS) (*Handler, *bytes.Buffer) {
	t.Helper()
	cfg, err := ConfigFromEnv(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := New(cfg, nil, e, &out)
	h.starter.Backoff = fastBackoff
	return h, &out
}

func testInvocation(h *Handler) *invocation {
	inv := h.newInvocation(context.Background())
	inv.requestID = "req-test"
	inv.creds = ecsapi.Credentials{AccessKeyID: "STS.test", AccessKeySecret: "secret-value-xyz", SecurityToken: "token-value-xyz"}
	return inv
}

func msg(src string, req events.StartRequest) events.Message {
	return events.Message{Trigger: events.Direct, Source: src, Request: req}
}

func byID(res *result.Result) map[string]result.InstanceResult {
	m := map[string]result.InstanceResult{}
	for _, ir := range res.InstanceResponses.InstanceResponse {
		m[ir.InstanceID] = ir
	}
	return m
}

func TestEveryInstanceIsReportedOnce(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-dup0000001": "Stopped", "i-dup0000002": "Stopped", "i-dup0000003": "Running"})
	f := fl.ECS()
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, f)
	inv := testInvocation(h)
	res := h.run(context.Background(), inv, []events.Message{
		msg("m1", events.StartRequest{InstanceIDs: []string{"i-dup0000001", "i-dup0000001", "i-dup0000002"}, DryRun: true}),
		msg("m2", events.StartRequest{InstanceIDs: []string{"i-dup0000002", "i-dup0000003"}}),
		msg("m3", events.StartRequest{InstanceIDs: []string{"i-BAD", "i-dup0000001"}}),
		{Trigger: events.MNS, Source: "m4", Ignored: "message body is not a start request"},
	}, time.Time{})
	h.flush(inv)
	got := byID(res)
	if len(res.InstanceResponses.InstanceResponse) != 4 {
		t.Fatalf("want 4 instance results, got %+v", res.InstanceResponses.InstanceResponse)
	}
	// i-dup0000002 was a dry run in m1 and a real start in m2: the real one wins.
	if got["i-dup0000002"].Outcome != result.Started || got["i-dup0000001"].Outcome != result.DryRunPassed ||
		got["i-dup0000003"].Outcome != result.AlreadyRunning || got["i-BAD"].Outcome != result.Rejected || got["i-BAD"].Code != result.CodeInvalidParameter {
		t.Fatalf("%+v", got)
	}
	if res.DryRun {
		t.Fatal("DryRun is true though a request was real")
	}
	if res.Summary.Requested != 4 || res.Summary.Ignored != 1 || res.Summary.Rejected != 1 || res.Summary.Started != 1 {
		t.Fatalf("summary %+v", res.Summary)
	}
	for _, c := range f.Calls() {
		for _, id := range c.InstanceIDs {
			if id == "i-BAD" {
				t.Fatal("an invalid request's instance reached ECS")
			}
		}
	}
	lines := logLines(t, logs)
	var instances, summaries, ignored int
	for _, l := range lines {
		switch l["msg"] {
		case "instance":
			instances++
			if l["instanceId"] == "i-dup0000002" {
				srcs, _ := l["sources"].([]any)
				if len(srcs) != 2 {
					t.Errorf("both sources must be kept: %v", l)
				}
			}
		case "summary":
			summaries++
			if l["requested"] != float64(4) || l["ignored"] != float64(1) {
				t.Errorf("summary line %v", l)
			}
		case "ignored":
			ignored++
		}
	}
	if instances != 4 || summaries != 1 || ignored != 1 {
		t.Fatalf("log lines: %d instance, %d summary, %d ignored", instances, summaries, ignored)
	}
	if strings.Contains(logs.String(), "secret-value-xyz") || strings.Contains(logs.String(), "token-value-xyz") {
		t.Fatal("credentials in the logs")
	}
}

func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// DESIGN §3 MAX_INSTANCES: the request that would pass the limit is refused
// whole; §4: it is summed up in one Ignored entry, never one result per ID.
func TestMaxInstancesRefusesTheRequestThatPassesIt(t *testing.T) {
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(ecsapitest.IDs(5, "m")))
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": "3"}, fl.ECS())
	list := ecsapitest.IDs(5, "m")
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("a", events.StartRequest{InstanceIDs: list[:2]}),
		msg("b", events.StartRequest{InstanceIDs: list[1:4]}), // 2 new: 4 > 3
		msg("c", events.StartRequest{InstanceIDs: list[4:5]}), // 1 new: 3 fits
	}, time.Time{})
	got := byID(res)
	if len(got) != 3 || got[list[0]].Outcome != result.Started || got[list[1]].Outcome != result.Started || got[list[4]].Outcome != result.Started {
		t.Fatalf("%+v", got)
	}
	if len(res.Ignored) != 1 {
		t.Fatalf("ignored %+v", res.Ignored)
	}
	ig := res.Ignored[0]
	if ig.Source != "b" || ig.Code != result.CodeTooManyInstances || strings.Join(ig.InstanceIDs, ",") != strings.Join(list[2:4], ",") ||
		!strings.Contains(ig.Reason, "MAX_INSTANCES (3)") {
		t.Fatalf("%+v", ig)
	}
}

func TestAllowListsReject(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-allow00001": "Stopped", "i-deny000001": "Stopped"})
	f := fl.ECS()
	h, _ := testHandler(t, map[string]string{"ALLOWED_REGIONS": "cn-hangzhou", "ALLOWED_INSTANCE_IDS": "i-allow00001"}, f)
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-allow00001", "i-deny000001"}}),
		msg("b", events.StartRequest{RegionID: "cn-beijing", InstanceIDs: []string{"i-allow00001"}}),
	}, time.Time{})
	var denied int
	for _, ir := range res.InstanceResponses.InstanceResponse {
		if ir.Outcome == result.Rejected && ir.Code == result.CodeNotAllowed {
			denied++
		}
	}
	if denied != 2 || res.Summary.Started != 1 {
		t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
	}
	for _, c := range f.Calls() {
		if c.RegionID != "cn-hangzhou" || len(c.InstanceIDs) != 1 || c.InstanceIDs[0] != "i-allow00001" {
			t.Fatalf("a denied instance reached ECS: %+v", c)
		}
	}
}

func TestAllowedTagIsCheckedBeforeAnyStart(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-tagged0001": "Stopped", "i-untagged01": "Stopped"})
	fl.Tags["i-tagged0001"] = map[string]string{"start-ecs": "yes"}
	f := fl.ECS()
	h, _ := testHandler(t, map[string]string{"ALLOWED_TAG": "start-ecs=yes"}, f)
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-tagged0001", "i-untagged01", "i-nowhere001"}}),
	}, time.Time{})
	got := byID(res)
	if got["i-tagged0001"].Outcome != result.Started || got["i-untagged01"].Outcome != result.Rejected || got["i-untagged01"].Code != result.CodeNotAllowed ||
		got["i-nowhere001"].Outcome != result.Failed {
		t.Fatalf("%+v", got)
	}
	if len(f.Calls()) != 1 || len(f.Calls()[0].InstanceIDs) != 1 {
		t.Fatalf("calls %+v", f.Calls())
	}
}

func TestStateChangeEventsNeedTheRestartTag(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-restart001": "Stopped", "i-norestart1": "Stopped"})
	fl.Tags["i-restart001"] = map[string]string{"auto-restart": "true"}
	ev := func(id string) events.Message {
		return events.Message{Trigger: events.ECSEvent, Source: "ecs:" + id, InstanceRegion: "cn-hangzhou",
			RequireRestartTag: true, Request: events.StartRequest{InstanceIDs: []string{id}}}
	}
	// Without RESTART_TAG every state-change event is ignored.
	h, _ := testHandler(t, nil, fl.ECS())
	res := h.run(context.Background(), testInvocation(h), []events.Message{ev("i-restart001")}, time.Time{})
	if res.Summary.Requested != 0 || len(res.Ignored) != 1 || !strings.Contains(res.Ignored[0].Reason, "RESTART_TAG") ||
		res.Ignored[0].InstanceIDs[0] != "i-restart001" {
		t.Fatalf("%+v", res)
	}
	h, _ = testHandler(t, map[string]string{"RESTART_TAG": "auto-restart=true"}, fl.ECS())
	res = h.run(context.Background(), testInvocation(h), []events.Message{ev("i-restart001"), ev("i-norestart1")}, time.Time{})
	if got := byID(res); got["i-restart001"].Outcome != result.Started || len(got) != 1 {
		t.Fatalf("%+v", res)
	}
	if len(res.Ignored) != 1 || res.Ignored[0].InstanceIDs[0] != "i-norestart1" {
		t.Fatalf("ignored %+v", res.Ignored)
	}
}

func TestExpiredEventsAreIgnoredWithTheirInstances(t *testing.T) {
	f := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-late000001"})).ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, f)
	old := events.Message{Trigger: events.Timer, Source: "timer:morning", Time: time.Now().Add(-3 * time.Hour),
		Request: events.StartRequest{InstanceIDs: []string{"i-late000001"}}}
	past := msg("n", events.StartRequest{InstanceIDs: []string{"i-late000001"}, NotAfter: "2020-01-01T00:00:00Z"})
	res := h.run(context.Background(), testInvocation(h), []events.Message{old, past}, time.Time{})
	if len(f.Calls()) != 0 || len(res.Ignored) != 2 {
		t.Fatalf("%+v", res)
	}
	for _, ig := range res.Ignored {
		if !strings.HasPrefix(ig.Reason, "expired") || len(ig.InstanceIDs) != 1 {
			t.Fatalf("%+v", ig)
		}
	}
}

func TestRegionResolutionOrder(t *testing.T) {
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-beijing"}, &ecsapitest.ECS{})
	inv := testInvocation(h)
	inv.Region = "cn-shenzhen"
	cases := []struct {
		m    events.Message
		want string
	}{
		{events.Message{Request: events.StartRequest{RegionID: "cn-hangzhou"}, InstanceRegion: "x", SourceRegion: "y"}, "cn-hangzhou"},
		{events.Message{InstanceRegion: "cn-qingdao", SourceRegion: "y"}, "cn-qingdao"},
		{events.Message{SourceRegion: "cn-chengdu"}, "cn-beijing"},
	}
	for _, c := range cases {
		if got, _ := h.planner().ResolveRegion(c.m, &inv.Invocation); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	h2, _ := testHandler(t, nil, &ecsapitest.ECS{})
	if got, _ := h2.planner().ResolveRegion(events.Message{SourceRegion: "cn-chengdu"}, &inv.Invocation); got != "cn-chengdu" {
		t.Errorf("source region: %s", got)
	}
	if got, _ := h2.planner().ResolveRegion(events.Message{}, &inv.Invocation); got != "cn-shenzhen" {
		t.Errorf("function region: %s", got)
	}
}

func TestMissingCredentialsFailEveryInstance(t *testing.T) {
	f := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-nocreds001"})).ECS()
	h, _ := testHandler(t, nil, f)
	inv := testInvocation(h)
	inv.creds = ecsapi.Credentials{}
	res := h.run(context.Background(), inv, []events.Message{msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-nocreds001"}})}, time.Time{})
	if ir := byID(res)["i-nocreds001"]; ir.Outcome != result.Failed || ir.Code != result.CodeMissingCredentials || ir.Advice == "" {
		t.Fatalf("%+v", ir)
	}
	if len(f.Calls()) != 0 {
		t.Fatal("called ECS without credentials")
	}
}

func TestUnfinishedErrorNamesInstancesWithinAFewKiB(t *testing.T) {
	res := &result.Result{RequestID: "r"}
	for _, id := range ecsapitest.IDs(500, "u") {
		res.InstanceResponses.InstanceResponse = append(res.InstanceResponses.InstanceResponse,
			result.InstanceResult{InstanceID: id, RegionID: "cn-hangzhou", Outcome: result.Unfinished, Code: "Throttling.User"})
	}
	res.Summarize()
	e := unfinishedError(res)
	if len(e.Message) > 4096 || !strings.Contains(e.Message, "i-u000000") || !strings.Contains(e.Message, "more") {
		t.Fatalf("%d bytes: %s", len(e.Message), e.Message)
	}
}

// DESIGN §5, the deadline: the work ends about a second before the
// deadline; an invocation shorter than two seconds keeps half of it for
// ECS (answerBy).
func TestWorkEndsBeforeTheDeadline(t *testing.T) {
	h, _ := testHandler(t, nil, &ecsapitest.ECS{})
	for _, left := range []time.Duration{30 * time.Second, time.Second} {
		dctx, dcancel := context.WithTimeout(context.Background(), left)
		inv := h.newInvocation(dctx)
		ctx, cancel := h.workContext(context.Background(), inv, time.Time{})
		end, _ := ctx.Deadline()
		cancel()
		dcancel()
		margin := inv.deadline.Sub(end)
		if margin <= 0 || margin > time.Second || (left == time.Second && (margin > 500*time.Millisecond || margin < 400*time.Millisecond)) {
			t.Errorf("%s left: work ends %s before the deadline", left, margin)
		}
	}
	inv := testInvocation(h)
	inv.deadline = time.Now().Add(time.Minute)
	ctx, cancel := h.workContext(context.Background(), inv, time.Now().Add(5*time.Second))
	defer cancel()
	if end, _ := ctx.Deadline(); time.Until(end) > 5*time.Second {
		t.Errorf("HTTP_WAIT not applied: %s left", time.Until(end))
	}
}

// byPair keys results by (region, ID), the identity of an instance (DESIGN §4).
func byPair(res *result.Result) map[string]result.InstanceResult {
	m := map[string]result.InstanceResult{}
	for _, ir := range res.InstanceResponses.InstanceResponse {
		m[ir.RegionID+"/"+ir.InstanceID] = ir
	}
	return m
}
