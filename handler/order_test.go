package handler

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// The rule: an invocation visits each package once, in order — the plan
// lists its lookups, the starter carries them all out at once, the plan
// judges every entry, the starter starts, then waits — with no call from
// a lower package back up (DESIGN, "The flow of one invocation"). Seen
// from ECS, for one plan: the tag selections and the DescribeInstances
// lookups of named instances overlap (one lookup phase, not a selection
// phase and then a describe phase), every lookup ends before the first
// StartInstances, and every wait poll follows the last StartInstances.
//
// A design that interleaves them fails here: one that describes the named
// instances only once the selections are applied (as carryOut once did:
// resolveSelections, then checkTags) leaves the selection waiting for a
// describe that never comes while it runs (selectionSawDescribe false); one
// that starts what one lookup cleared before the next lookup ends, or polls
// before every start is made, breaks the order of the calls.
func TestOnePlanLooksUpThenStartsThenWaits(t *testing.T) {
	const selected, named, untagged = "i-order00001", "i-order00002", "i-order00003"
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{selected, named, untagged}))
	fl.Tags[selected] = map[string]string{"env": "dev", "start-ecs": "yes"}
	fl.Tags[named] = map[string]string{"start-ecs": "yes"}
	f := fl.ECS()

	var mu sync.Mutex
	var calls []string
	record := func(c string) {
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
	}
	described := make(chan struct{})
	var once sync.Once
	selectionSawDescribe := false
	f.ByTags = func(in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
		record("select")
		// The selection answers only once a named instance is being
		// described beside it, or after a while.
		select {
		case <-described:
			selectionSawDescribe = true
		case <-time.After(2 * time.Second):
		}
		record("select done")
		return fl.DescribeTags(in)
	}
	f.Describe = func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
		record("describe")
		once.Do(func() { close(described) })
		return fl.DescribeIDs(region, ids)
	}
	f.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		record("start")
		return fl.Start(in)
	}
	f.Status = func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
		record("poll")
		for _, id := range ids {
			if fl.Status[id] == "Starting" {
				fl.Set(id, "Running")
			}
		}
		return fl.DescribeIDs(region, ids)
	}

	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_TAG": "start-ecs=yes"}, f)
	h.starter.PollInterval = 10 * time.Millisecond
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("selection", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}, Wait: "30s"}),
		msg("ids", events.StartRequest{InstanceIDs: []string{named, untagged}, Wait: "30s"}),
	}, time.Time{})

	got := byID(res)
	if got[selected].Outcome != result.Started || got[named].Outcome != result.Started || got[untagged].Outcome != result.Rejected {
		t.Fatalf("outcomes %+v", got)
	}
	if got[selected].CurrentStatus != "Running" || got[named].CurrentStatus != "Running" {
		t.Fatalf("not waited for: %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !selectionSawDescribe {
		t.Errorf("the named instances were described only after the selection: two lookup phases, %v", calls)
	}
	firstStart, lastStart := slices.Index(calls, "start"), -1
	for i, c := range calls {
		if c == "start" {
			lastStart = i
		}
	}
	if firstStart < 0 || !slices.Contains(calls, "poll") || !slices.Contains(calls, "describe") {
		t.Fatalf("calls %v: want lookups, starts and polls", calls)
	}
	for i, c := range calls {
		switch c {
		case "select", "select done", "describe":
			if i > firstStart {
				t.Errorf("call %d (%s) after the first StartInstances: %v", i, c, calls)
			}
		case "poll":
			if i < lastStart {
				t.Errorf("call %d (poll) before the last StartInstances: %v", i, calls)
			}
		}
	}
}

// While a selection is pending, the named instances are described beside
// it, before MAX_INSTANCES counts what it finds: a request that
// MAX_INSTANCES refuses whatever the selection finds is not looked up at
// all (TooManyInstances: nothing of it is sent), as when the lookups came
// one after the other.
func TestARequestRefusedAnywayIsNotLookedUp(t *testing.T) {
	many := ecsapitest.IDs(5, "refused")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(append([]string{"i-order00001"}, many...)))
	fl.Tags["i-order00001"] = map[string]string{"env": "dev", "start-ecs": "yes"}
	f := fl.ECS()
	var mu sync.Mutex
	var describedIDs []string
	f.Describe = func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
		mu.Lock()
		describedIDs = append(describedIDs, ids...)
		mu.Unlock()
		return fl.DescribeIDs(region, ids)
	}
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_TAG": "start-ecs=yes", "MAX_INSTANCES": "3"}, f)
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("selection", events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}}),
		msg("ids", events.StartRequest{InstanceIDs: many}),
	}, time.Time{})
	if len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeTooManyInstances || byID(res)["i-order00001"].Outcome != result.Started {
		t.Fatalf("%+v / %+v", res.InstanceResponses.InstanceResponse, res.Ignored)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(describedIDs) != 0 {
		t.Fatalf("described %v of a request refused whatever the selection finds", describedIDs)
	}
}
