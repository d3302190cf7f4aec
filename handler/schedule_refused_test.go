package handler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// A schedule request (DESIGN §3.2) that reaches the handler before the
// orchestration carries schedules out must not silently do nothing: from a
// timer it is an Ignored entry saying so (InvalidParameter), over HTTP the
// plan holds the defect (400), outer or in a target; no ECS call is made.
func TestScheduleRequestIsRefusedUntilCarriedOut(t *testing.T) {
	for _, payload := range []string{
		`{"triggerTime":"2027-02-22T00:00:00Z","triggerName":"schedule-tick","payload":"{\"regionId\":\"cn-hangzhou\",\"schedule\":{\"every\":\"5m\"}}"}`,
		`{"targets":[{"regionId":"cn-hangzhou","Schedule":{"Every":"5m"}}],"preview":"7d"}`,
	} {
		ecs := &ecsapitest.ECS{}
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_EVENT_AGE": "0"}, ecs)
		msgs := events.Decode([]byte(payload))
		inv := testInvocation(h)
		p := h.planner().Make(&inv.Invocation, msgs, time.Time{})
		if p.InvalidCount != 1 || !strings.Contains(p.Invalid[0].Field, "chedule") || p.Invalid[0].Message != plan.NotCarriedOut {
			t.Fatalf("%s: an HTTP caller would not get 400 naming the schedule: %+v", payload, p.Invalid)
		}
		res := h.run(context.Background(), inv, msgs, time.Time{})
		// At least one entry: a refused request with targets is listed
		// twice by the plan today (any defect, not only this one).
		if len(res.Ignored) == 0 {
			t.Fatalf("%s: nothing says the request was refused", payload)
		}
		for _, ig := range res.Ignored {
			if ig.Code != result.CodeInvalidParameter || !strings.Contains(ig.Reason, plan.NotCarriedOut) {
				t.Fatalf("%s: %+v", payload, res.Ignored)
			}
		}
		if n := len(ecs.Calls()); n != 0 {
			t.Fatalf("%s: %d ECS calls for a refused request", payload, n)
		}
	}
}
