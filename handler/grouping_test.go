package handler

import (
	"context"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
)

func TestSuccessFirstStartsEveryInstance(t *testing.T) {
	all := ecsapitest.IDs(250, "a")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(all))
	f := fl.ECS()
	groups := groupEntries(entriesFor(all, ecsapi.SuccessFirst, false))
	if len(groups) != 3 {
		t.Fatalf("250 IDs make %d groups, want 3 of at most 100", len(groups))
	}
	res := runStart(t, f, 5*time.Second, groups...)
	if len(res) != 250 {
		t.Fatalf("%d results for 250 instances", len(res))
	}
	for _, id := range all {
		if ir := outcomeOf(t, res, id); ir.Outcome != result.Started || ir.PreviousStatus != "Stopped" || ir.EcsRequestID != "req-start" {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	for _, c := range f.Calls() {
		if len(c.InstanceIDs) > 100 || c.BatchOptimization != ecsapi.SuccessFirst {
			t.Fatalf("call with %d IDs, batch %s", len(c.InstanceIDs), c.BatchOptimization)
		}
	}
}

func entriesFor(list []string, batch string, dry bool) []*plan.Entry {
	var out []*plan.Entry
	var g *plan.AtGroup // SuccessFirst
	if batch == ecsapi.AllTogether {
		g = &plan.AtGroup{}
	}
	for _, id := range list {
		out = append(out, &plan.Entry{ID: id, Scope: ecsapi.Scope{Region: "cn-hangzhou"}, Group: g, DryRun: dry})
	}
	return out
}

func TestCallsStayUnderTheConcurrencyBound(t *testing.T) {
	all := ecsapitest.IDs(1000, "c")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(all))
	f := fl.ECS()
	inner := f.Start
	f.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		time.Sleep(5 * time.Millisecond)
		return inner(in)
	}
	s := &starter.Starter{ECS: f, MaxConcurrent: 3, Backoff: fastBackoff}
	res, _ := s.NewRun(ecsapi.Credentials{AccessKeyID: "a", AccessKeySecret: "b"}, nil).StartGroups(context.Background(), groupEntries(entriesFor(all, ecsapi.SuccessFirst, false)))
	if len(res) != 1000 {
		t.Fatalf("%d results", len(res))
	}
	if m := f.MaxInFlight.Load(); m > 3 || m < 2 {
		t.Fatalf("max in flight %d, want 2..3 under a bound of 3", m)
	}
}
