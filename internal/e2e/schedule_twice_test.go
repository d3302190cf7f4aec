package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// DESIGN §3.2 with at-least-once delivery: the same tick (one triggerTime)
// delivered twice at once, to one process and to another process that
// talks to the same ECS, starts each due instance by at most one
// StartInstances that ECS accepts; every other delivery reports it
// AlreadyRunning (ECS's IncorrectInstanceStatus looked into, §7), never
// Failed. The tick sent again once they run makes no StartInstances call.
func TestScheduleTickDeliveredTwiceAtOnce(t *testing.T) {
	t.Parallel()
	// Started instances stay Starting for a while: the later delivery's
	// StartInstances meets an instance in transition, as ECS's would.
	h1 := start(t, scheduleEnv(), ecsemu.Options{StartDelay: 3 * time.Second})
	h2, err := harness.Start(context.Background(), harness.Options{Root: root, Binary: h1.Binary, RealECS: true,
		Env:         mergeEnv(scheduleEnv(), map[string]string{"ECS_ENDPOINT": h1.ECS.URL(), "STS_ENDPOINT": h1.ECS.URL()}),
		Credentials: fcemu.Credentials{AccessKeyID: harness.Role.AccessKeyID, AccessKeySecret: harness.Role.AccessKeySecret, SecurityToken: harness.Role.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h2.Close)
	const tick = `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`
	payload := tickAt("2027-02-20T00:00:00Z", tick)

	var wg sync.WaitGroup
	results := make([]hresult.Result, 3)
	for i, h := range []*harness.Harness{h1, h1, h2} {
		wg.Go(func() { results[i] = result(t, invoke(t, h, payload)) })
	}
	wg.Wait()
	for _, id := range []string{schedWorkdays, schedOffice} {
		started := 0
		for i, r := range results {
			switch ir := outcomes(r)[id]; ir.Outcome {
			case hresult.Started:
				started++
			case hresult.AlreadyRunning:
			default:
				t.Errorf("delivery %d: %s is %s (%s): %+v", i, id, ir.Outcome, ir.Code, ir)
			}
		}
		if started != 1 {
			t.Errorf("%s reported Started by %d deliveries, want 1", id, started)
		}
	}
	started, _ := startedBy(h1)
	t.Logf("StartInstances named %v (a second call meets ECS's IncorrectInstanceStatus)", started)

	// Sent again once they run: AlreadyRunning, no StartInstances at all.
	time.Sleep(3500 * time.Millisecond)
	h1.ECS.ResetCalls()
	for _, h := range []*harness.Harness{h1, h2} {
		r := result(t, invoke(t, h, payload))
		if started, _ := startedBy(h1); len(started) != 0 || r.Summary.AlreadyRunning != 2 || r.Summary.Started != 0 {
			t.Errorf("the tick sent again: calls for %v, %+v", started, r.Summary)
		}
	}
}

func mergeEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
