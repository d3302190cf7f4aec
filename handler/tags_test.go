package handler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

func strp(s string) *string { return &s }

// DESIGN §3.1: tags are validated by ECS's rules, errors naming the pair's
// part as the caller spelled it; wait is true, false or a positive duration.
func TestValidateTagsAndWait(t *testing.T) {
	long := strings.Repeat("k", 129)
	many := make([]events.TagFilter, 21)
	for i := range many {
		many[i] = events.TagFilter{Key: "k"}
	}
	tests := []struct {
		name  string
		req   events.StartRequest
		field string
		text  string
	}{
		{"empty key", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}, {Key: ""}}}, "tags[1].key", "1 to 128"},
		{"key too long", events.StartRequest{Tags: []events.TagFilter{{Key: long}}}, "tags[0].key", "at most 128"},
		{"value too long", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp(long)}}}, "tags[0].value", "at most 128"},
		{"aliyun key", events.StartRequest{Tags: []events.TagFilter{{Key: "aliyun:env"}}}, "tags[0].key", "aliyun or acs:"},
		{"acs: value, ECS spelling", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("acs:x")}}, TagFields: []string{"Tag.3"}}, "Tag.3.Value", "aliyun or acs:"},
		{"no pairs", events.StartRequest{Tags: []events.TagFilter{}}, "tags", "1 to 20"},
		{"21 pairs", events.StartRequest{Tags: many}, "tags", "at most 20"},
		{"no IDs nor tags", events.StartRequest{}, "instanceIds", "select instances by tags"},
		{"wait not a duration", events.StartRequest{Tags: []events.TagFilter{{Key: "env"}}, Wait: "soon"}, "wait", "duration"},
		{"negative wait", events.StartRequest{Tags: []events.TagFilter{{Key: "env"}}, Wait: "-1s"}, "wait", "more than 0"},
		{"wait over a day", events.StartRequest{Tags: []events.TagFilter{{Key: "env"}}, Wait: "25h"}, "wait", "at most 24h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := plan.Validate(tc.req)
			for _, e := range errs {
				if e.Field == tc.field && strings.Contains(e.Message, tc.text) {
					return
				}
			}
			t.Fatalf("errors %+v, want %s with %q", errs, tc.field, tc.text)
		})
	}
	for _, ok := range []events.StartRequest{
		{Tags: []events.TagFilter{{Key: "env", Value: strp("")}}, Wait: "true"},
		{Tags: []events.TagFilter{{Key: strings.Repeat("é", 128), Value: strp(strings.Repeat("ü", 128))}}, Wait: "90s"},
		{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}, Tags: []events.TagFilter{{Key: "env"}}, Wait: "false"},
	} {
		if errs := plan.Validate(ok); len(errs) > 0 {
			t.Errorf("%+v: %+v", ok, errs)
		}
	}
}

// DESIGN §3: MAX_INSTANCES counts in order, a tag selection in its place:
// whichever request comes first is carried out, the one that would pass the
// limit is refused whole.
func TestSelectionCountsInOrder(t *testing.T) {
	const a, b, c, d = "i-tagorder001", "i-tagorder002", "i-tagorder003", "i-tagorder004"
	sel := msg("selection", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}})
	ids := msg("ids", events.StartRequest{InstanceIDs: []string{c, d}})
	for _, tc := range []struct {
		order   []events.Message
		refused string
		started []string
	}{
		{[]events.Message{sel, ids}, "ids", []string{a, b}},
		{[]events.Message{ids, sel}, "selection", []string{c, d}},
	} {
		fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, b, c, d}))
		fl.Tags[a], fl.Tags[b] = map[string]string{"env": "dev"}, map[string]string{"env": "dev"}
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": "3"}, fl.ECS())
		res := h.run(context.Background(), testInvocation(h), tc.order, time.Time{})
		got := byID(res)
		if len(res.Ignored) != 1 || res.Ignored[0].Source != tc.refused || res.Ignored[0].Code != result.CodeTooManyInstances || len(got) != 2 {
			t.Fatalf("order %s: %+v / %+v", sources(tc.order), res.InstanceResponses.InstanceResponse, res.Ignored)
		}
		for _, id := range tc.started {
			if got[id].Outcome != result.Started {
				t.Errorf("order %s: %s %+v", sources(tc.order), id, got[id])
			}
		}
	}
}

// A Running instance that an AllTogether selection finds is AlreadyRunning
// with no call, and does not keep its partners from starting together.
func TestAllTogetherSelectionWithARunningMember(t *testing.T) {
	const a, b, run = "i-tagat00001", "i-tagat00002", "i-tagat00003"
	fl := ecsapitest.NewFleet(map[string]string{a: "Stopped", b: "Stopped", run: "Running"})
	for _, id := range []string{a, b, run} {
		fl.Tags[id] = map[string]string{"batch": "monthly"}
	}
	e := fl.ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
	res := h.run(context.Background(), testInvocation(h), []events.Message{msg("at", events.StartRequest{
		Tags: []events.TagFilter{{Key: "batch", Value: strp("monthly")}}, BatchOptimization: ecsapi.AllTogether})}, time.Time{})
	got := byID(res)
	if got[a].Outcome != result.Started || got[b].Outcome != result.Started || got[run].Outcome != result.AlreadyRunning {
		t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
	}
	calls := e.Calls()
	if len(calls) != 1 || calls[0].BatchOptimization != ecsapi.AllTogether || len(calls[0].InstanceIDs) != 2 {
		t.Fatalf("StartInstances calls %+v, want one AllTogether call of the two Stopped", calls)
	}
}

// ECS's answer to a tag selection is checked: an instance it lists without
// the tags passed no selection and is never started (DESIGN §7).
func TestSelectionIgnoresAnInstanceWithoutTheTags(t *testing.T) {
	const a, stray = "i-tagcheck001", "i-tagcheck002"
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, stray}))
	fl.Tags[a] = map[string]string{"env": "dev"}
	e := fl.ECS()
	e.ByTags = func(ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
		return &ecsapi.DescribeInstancesOutput{RequestID: "req-tags", Instances: []ecsapi.InstanceInfo{
			{InstanceID: a, Status: "Stopped", Tags: map[string]string{"env": "dev"}},
			{InstanceID: stray, Status: "Stopped", Tags: map[string]string{"env": "prod"}},
		}}, nil
	}
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
	inv := testInvocation(h)
	res := h.run(context.Background(), inv, []events.Message{msg("sel", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}})}, time.Time{})
	h.flush(inv)
	if got := byID(res); len(got) != 1 || got[a].Outcome != result.Started {
		t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
	}
	for _, c := range e.Calls() {
		for _, id := range c.InstanceIDs {
			if id == stray {
				t.Fatalf("started %s, which does not carry the tags", stray)
			}
		}
	}
	warned := false
	for _, l := range logLines(t, logs) {
		warned = warned || (l["msg"] == "ecsAnswer" && l["instanceId"] == stray)
	}
	if !warned {
		t.Fatal("no ecsAnswer warning for the stray instance")
	}
}

// DESIGN §7: what a lookup said decides in one place (starter.Settled), for
// a tag selection's instances as for the starter's own lookups: a security
// lock is Failed (every operation on it is prohibited) even when the
// instance is Running, and only then is Running or Starting AlreadyRunning;
// none of them is sent to StartInstances.
func TestSelectionJudgesALookupAsTheStarterDoes(t *testing.T) {
	const lockedRunning, lockedStopped, running, stopped = "i-tagsl00001", "i-tagsl00002", "i-tagsl00003", "i-tagsl00004"
	for _, dry := range []bool{false, true} {
		fl := ecsapitest.NewFleet(map[string]string{lockedRunning: "Running", lockedStopped: "Stopped", running: "Starting", stopped: "Stopped"})
		for id := range fl.Status {
			fl.Tags[id] = map[string]string{"env": "dev"}
		}
		fl.Locks[lockedRunning] = []string{"security"}
		fl.Locks[lockedStopped] = []string{"security"}
		e := fl.ECS()
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
		res := h.run(context.Background(), testInvocation(h), []events.Message{msg("sel", events.StartRequest{
			Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}, DryRun: dry})}, time.Time{})
		got := byID(res)
		for _, id := range []string{lockedRunning, lockedStopped} {
			if got[id].Outcome != result.Failed || got[id].Code != result.CodeLockedForSecurity {
				t.Errorf("dry %v: %s (%s, locked for security) = %+v, want Failed %s", dry, id, fl.Status[id], got[id], result.CodeLockedForSecurity)
			}
		}
		if got[running].Outcome != result.AlreadyRunning {
			t.Errorf("dry %v: %s Starting = %+v, want AlreadyRunning", dry, running, got[running])
		}
		for _, c := range e.Calls() {
			if len(c.InstanceIDs) != 1 || c.InstanceIDs[0] != stopped {
				t.Errorf("dry %v: StartInstances %v, want only %s", dry, c.InstanceIDs, stopped)
			}
		}
	}
}
