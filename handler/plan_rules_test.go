package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// An invalid request naming thousands of IDs makes a result that grows with
// their number, not its square, and quotes no value at length.
func TestInvalidRequestsStayBounded(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, &ecsapitest.ECS{})
	for _, n := range []int{500, 3000} {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("i-x%d", i) // too short: every one is malformed
		}
		logs.Reset()
		inv := testInvocation(h)
		res := h.run(context.Background(), inv, []events.Message{msg("big", events.StartRequest{InstanceIDs: list})}, time.Time{})
		h.flush(inv)
		body, _ := json.Marshal(res)
		if len(body) > 400*n || logs.Len() > 600*n {
			t.Fatalf("%d malformed IDs: %d bytes of result, %d of logs", n, len(body), logs.Len())
		}
		reported := len(res.InstanceResponses.InstanceResponse)
		for _, ig := range res.Ignored {
			reported += max(len(ig.InstanceIDs), ig.InstanceCount)
		}
		if reported != n {
			t.Fatalf("%d of %d instances reported", reported, n)
		}
		for _, ir := range res.InstanceResponses.InstanceResponse {
			if ir.Outcome != result.Rejected || len(ir.Message) > 400 || !strings.Contains(ir.Message, ir.InstanceID) {
				t.Fatalf("%+v", ir)
			}
		}
	}
	long := strings.Repeat("A", 5000)
	errs := plan.Validate(events.StartRequest{RegionID: long, InstanceIDs: []string{"i-" + long}})
	for _, e := range errs {
		if len(e.Message) > 200 {
			t.Fatalf("a %d-byte message quotes the value whole", len(e.Message))
		}
	}
}

func TestMalformedRegionFromTheEventIsRejected(t *testing.T) {
	f := &ecsapitest.ECS{}
	h, _ := testHandler(t, nil, f)
	m := events.Message{Trigger: events.CMSAlarm, Source: "cms-alarm", InstanceRegion: "CN_Hangzhou",
		Request: events.StartRequest{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}}}
	res := h.run(context.Background(), testInvocation(h), []events.Message{m}, time.Time{})
	ir := res.InstanceResponses.InstanceResponse[0]
	if ir.Outcome != result.Rejected || ir.Code != result.CodeInvalidParameter || !strings.Contains(ir.Message, "the event's instance") {
		t.Fatalf("%+v", ir)
	}
	if len(f.Calls()) != 0 {
		t.Fatal("a malformed region reached ECS")
	}
}

func TestADryRunDoesNotLiftTheRestartTag(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-untagged01": "Stopped"})
	f := fl.ECS()
	h, _ := testHandler(t, map[string]string{"RESTART_TAG": "auto-restart=true"}, f)
	ev := events.Message{Trigger: events.ECSEvent, Source: "ecs-event:ev1", InstanceRegion: "cn-hangzhou", RequireRestartTag: true,
		Request: events.StartRequest{InstanceIDs: []string{"i-untagged01"}}}
	dry := msg("direct", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-untagged01"}, DryRun: true})
	h.run(context.Background(), testInvocation(h), []events.Message{ev, dry}, time.Time{})
	for _, c := range f.Calls() {
		if !c.DryRun {
			t.Fatalf("an untagged instance was really started: %+v", c)
		}
	}
}

// DESIGN §4: an instance is the pair (region, ID) everywhere. The same ID
// under a malformed region is another pair: Rejected there, started in its
// own region, whatever the order of the requests.
func TestAnInstanceUnderAMalformedRegionIsAnotherPair(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-aaaaaa01": "Stopped"})
	h, _ := testHandler(t, nil, fl.ECS())
	for _, order := range [][]events.Message{
		{msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-aaaaaa01"}}), msg("b", events.StartRequest{RegionID: "CN", InstanceIDs: []string{"i-aaaaaa01"}})},
		{msg("b", events.StartRequest{RegionID: "CN", InstanceIDs: []string{"i-aaaaaa01"}}), msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-aaaaaa01"}})},
	} {
		fl.Set("i-aaaaaa01", "Stopped")
		res := h.run(context.Background(), testInvocation(h), order, time.Time{})
		got := byPair(res)
		if len(got) != 2 || got["cn-hangzhou/i-aaaaaa01"].Outcome != result.Started || got["CN/i-aaaaaa01"].Outcome != result.Rejected ||
			got["CN/i-aaaaaa01"].Code != result.CodeInvalidParameter {
			t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
		}
	}
}
