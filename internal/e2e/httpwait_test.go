package e2e

import (
	"net/http"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §3.1 wait, §6 HTTP_WAIT: "Over HTTP a request in which anything
// asks to wait — its own wait, a target's, a group's, a sequence — is
// answered when the waiting ends: HTTP_WAIT does not cut it short, the
// function's timeout does (a dry run waits for nothing and keeps
// HTTP_WAIT)." Through the binary, with HTTP_WAIT far shorter than the time
// the emulator keeps a started instance Starting.
func TestHTTPWaitExemptOnlyWhenSomethingWaits(t *testing.T) {
	t.Parallel()
	const startDelay = 1200 * time.Millisecond
	env := map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "300ms"}
	h := start(t, env, ecsemu.Options{StartDelay: startDelay})
	waits := []struct{ name, body, id string }{
		{"a target's own wait", `{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"wait":"20s"}]}`, "i-bp67acfmxazb4p0001"},
		{"the outer wait beside targets", `{"wait":"20s","targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0002"]}]}`, "i-bp67acfmxazb4p0002"},
		{"a wait of a target of a sequence group", `{"sequence":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0004"],"dryRun":true},
			{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0005"],"wait":"20s"}]}]}`, "i-bp67acfmxazb4p0005"},
		{"a request's own wait", `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0006"],"wait":true}`, "i-bp67acfmxazb4p0006"},
	}
	for _, w := range waits {
		t.Run(w.name, func(t *testing.T) {
			began := time.Now()
			a := httpResult(t, invoke(t, h, httpEvent(w.body, bearer(), nil)))
			took := time.Since(began)
			if ir := outcomes(a.Result)[w.id]; a.StatusCode != http.StatusOK || ir.Outcome != hresult.Started || ir.CurrentStatus != "Running" {
				t.Fatalf("after %s: %d %s; want 200 with %s Started and Running (the wait is exempt from HTTP_WAIT)", took, a.StatusCode, a.Body, w.id)
			}
			if took < startDelay {
				t.Errorf("answered after %s, before the instance could run", took)
			}
		})
	}

	// Dry runs wait for nothing: they keep HTTP_WAIT, whatever they say
	// of wait. ECS throttles every call, so that only HTTP_WAIT ends the
	// work early (the retry budget alone takes seconds).
	dry := start(t, env, ecsemu.Options{})
	dryOnly := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "300ms", "DRY_RUN_ONLY": "true"}, ecsemu.Options{})
	for _, d := range []struct {
		name, body string
		only       bool
	}{
		{name: "dryRun with wait", body: `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"],"dryRun":true,"wait":true}`},
		{name: "a dry-run target with wait", body: `{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"],"dryRun":true,"wait":"20s"}]}`},
		{name: "an outer dryRun beside a target's wait", body: `{"dryRun":true,"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"],"wait":"20s"}]}`},
		{name: "a dry-run sequence", body: `{"dryRun":true,"sequence":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"]},{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0008"]}]}`},
		{name: "DRY_RUN_ONLY with wait", body: `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"],"wait":true}`, only: true},
		{name: "DRY_RUN_ONLY with a sequence", body: `{"sequence":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0007"]},{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0008"]}]}`, only: true},
	} {
		t.Run(d.name, func(t *testing.T) {
			fn := dry
			if d.only {
				fn = dryOnly
			}
			fn.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 1 << 20})
			defer fn.ECS.SetFaults(ecsemu.Faults{})
			began := time.Now()
			a := httpResult(t, invoke(t, fn, httpEvent(d.body, bearer(), nil)))
			took := time.Since(began)
			if a.StatusCode != http.StatusServiceUnavailable || !a.Result.DryRun {
				t.Fatalf("after %s: %d %s; want 503 for a dry run ECS throttles", took, a.StatusCode, a.Body)
			}
			if took > 2500*time.Millisecond {
				t.Errorf("a dry run answered after %s: it waits for nothing and keeps HTTP_WAIT (300ms)", took)
			}
		})
	}
}
