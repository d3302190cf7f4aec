package e2e

import (
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// DESIGN §7: ECS counts calls per API, region and account in windows of a
// second and of a minute; "while ECS accepts no call of a scope, throttled
// calls wait — bounded by the deadline, not by a count of attempts — until a
// call is accepted again or the next minute's window opens (plus jitter); an
// invocation with 60 s or more left never ends Unfinished for throttling that
// lasts one window." The emulator's quota is one StartInstances a minute (a
// real minute: the binary assumes ECS's window of 60 s); the first
// invocation spends it, the second is throttled until the next window opens
// and must start its instance then. Before: Unfinished after 8 attempts
// (about 7 s), with most of the function's time left.
func TestThrottlingForAMinuteWaitsForTheNextWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a minute's window")
	}
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", PerMinute: 1})
	quotaSet := time.Now()
	long := func(i *fcemu.Invocation) { i.Timeout = 100 * time.Second }
	if ir := outcomes(result(t, invoke(t, h, timerEvent(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}`), long)))["i-bp67acfmxazb4p0001"]; ir.Outcome != hresult.Started {
		t.Fatalf("the call that spends the quota: %+v", ir)
	}
	out := invoke(t, h, timerEvent(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0002"]}`), long)
	if out.IsError {
		t.Fatalf("throttling for one window ended the invocation: %s %.300s", out.ErrorType, out.ErrorMessage)
	}
	if ir := outcomes(result(t, out))["i-bp67acfmxazb4p0002"]; ir.Outcome != hresult.Started {
		t.Fatalf("%+v, want Started once the next window opened", ir)
	}
	throttled, started := 0, time.Time{}
	for _, c := range h.ECS.Calls() {
		switch {
		case c.Fault == "minute":
			throttled++
		case c.Action == "StartInstances" && len(c.Started) > 0:
			started = c.Time
		}
	}
	if started.Sub(quotaSet) < time.Minute {
		t.Errorf("started %s after the quota was set, inside its window", started.Sub(quotaSet))
	}
	t.Logf("started %s after the quota was set, after %d throttled calls", started.Sub(quotaSet), throttled)
	// Its backoff attempts, a call at the wall-clock minute, one after.
	if most := starter.DefaultBackoff().Attempts + 2; throttled == 0 || throttled > most {
		t.Errorf("%d throttled calls, want 1 to %d: waiting for the window is not retrying", throttled, most)
	}
}
