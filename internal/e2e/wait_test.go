package e2e

import (
	"fmt"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §3.1 wait: "The last poll is at the wait's end, however short the
// wait: an instance that is Running when the wait ends is reported Running,
// never WaitTimeout." Before: a wait of 1.5s (shorter than the 2 s poll
// interval) never polled again after the start, and one of 3.9s stopped
// polling at 2 s. Polls go to DescribeInstanceStatus (§7).
func TestWaitPollsAtItsEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wait       string
		startDelay time.Duration
	}{
		{"1.5s", time.Second},
		{"3.9s", 3 * time.Second},
	} {
		t.Run(tc.wait, func(t *testing.T) {
			t.Parallel()
			h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{StartDelay: tc.startDelay})
			req := fmt.Sprintf(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"wait":%q}`, tc.wait)
			for _, carrier := range []struct {
				name string
				wrap func(string) []byte
			}{{"timer", timerEvent}, {"http", func(r string) []byte { return httpEvent(r, bearer(), nil) }}} {
				if err := h.ECS.SetInstance(ecsemu.Instance{InstanceID: "i-bp67acfmxazb4p0001", RegionID: "cn-hangzhou", Status: ecsemu.Stopped}); err != nil {
					t.Fatal(err)
				}
				h.ECS.ResetCalls()
				out := invoke(t, h, carrier.wrap(req))
				var r hresult.Result
				if carrier.name == "http" {
					r = httpResult(t, out).Result
				} else {
					r = result(t, out)
				}
				ir := outcomes(r)["i-bp67acfmxazb4p0001"]
				if ir.Outcome != hresult.Started || ir.CurrentStatus != "Running" {
					t.Errorf("%s: %s %s (%s, %q): want Started and Running, seen at the wait's end", carrier.name, ir.Outcome, ir.CurrentStatus, ir.Code, ir.Message)
				}
				var polls []time.Duration
				var first time.Time
				for _, c := range h.ECS.Calls() {
					switch c.Action {
					case "StartInstances":
						first = c.Time
					case "DescribeInstanceStatus":
						polls = append(polls, c.Time.Sub(first))
					case "DescribeInstances":
						t.Errorf("%s: a wait polled with DescribeInstances", carrier.name)
					}
				}
				if len(polls) < 2 {
					t.Errorf("%s: polls at %v: the last must be at the wait's end", carrier.name, polls)
				}
			}
		})
	}
}
