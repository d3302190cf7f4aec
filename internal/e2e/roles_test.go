package e2e

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// DESIGN §5 the deadline: "No wait is exempt: not for a lock or a cache
// that another invocation holds (an STS AssumeRole in flight for the same
// role) … An instance the deadline kept from being sent is Unfinished
// (DeadlineExceeded, safe to retry) and its message says it was not sent,
// never 'may or may not have happened'." Through the binary: STS (the
// emulator) takes 4 s to answer A's AssumeRole; B, for the same role with a
// 1 s timeout, and C over HTTP with HTTP_WAIT 1s, answer by their own
// deadlines. Also DESIGN §3.1 roleArn: the AssumeRole carries the function's
// session name, 900 s, ROLE_EXTERNAL_ID (the trust condition the emulator
// checks) and the session policy.
func TestAssumeRoleInFlightWaitsOnlyUntilTheDeadline(t *testing.T) {
	t.Parallel()
	const external = "tenant-7:start-ecs"
	h := startWith(t, twoAccounts(t), map[string]string{"ALLOWED_ROLE_ARNS": roleB, "ROLE_EXTERNAL_ID": external,
		"HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "1s"},
		ecsemu.Options{Roles: []ecsemu.Role{{Arn: roleB, ExternalID: external}}})
	h.ECS.SetFaults(ecsemu.Faults{Action: "AssumeRole", Latency: 4 * time.Second})
	one := func(id string) string {
		return `{"regionId":"cn-shanghai","roleArn":"` + roleB + `","instanceIds":["` + id + `"]}`
	}
	var a *harness.Outcome
	var wg sync.WaitGroup
	wg.Go(func() { a = invoke(t, h, []byte(one("i-uf6acctb00001"))) })
	for h.ECS.Stats().Requests == 0 {
		time.Sleep(5 * time.Millisecond)
	}

	began := time.Now()
	b := invoke(t, h, []byte(one("i-uf6acctb00002")), func(i *fcemu.Invocation) { i.Timeout = time.Second })
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Errorf("B, with a 1 s timeout, answered after %s", took)
	}
	if !b.IsError || !strings.Contains(b.ErrorMessage, "i-uf6acctb00002") {
		t.Errorf("B: want an error naming its unfinished instance, got %s %s", b.Payload, b.ErrorMessage)
	}
	for _, l := range b.LogsOf("instance") {
		if msg, _ := l["message"].(string); l["outcome"] != string(hresult.Unfinished) || l["code"] != hresult.CodeDeadlineExceeded ||
			!strings.Contains(msg, "not sent") || strings.Contains(msg, "may or may not") {
			t.Errorf("B's instance: %v; want Unfinished, DeadlineExceeded, saying it was not sent", l)
		}
	}

	began = time.Now()
	c := httpResult(t, invoke(t, h, httpEvent(one("i-uf6acctb00002"), bearer(), nil)))
	if took := time.Since(began); took > 1800*time.Millisecond || c.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("C over HTTP (HTTP_WAIT 1s): %d after %s", c.StatusCode, took)
	}
	if ir := outcomes(c.Result)["i-uf6acctb00002"]; !strings.Contains(ir.Message, "not sent") || strings.Contains(ir.Message, "may or may not") {
		t.Errorf("C's instance: %+v", ir)
	}

	wg.Wait()
	if ir := outcomes(result(t, a))["i-uf6acctb00001"]; ir.Outcome != hresult.Started {
		t.Errorf("A: %+v", ir)
	}
	var assumed []ecsemu.Call
	for _, call := range h.ECS.Calls() {
		switch {
		case call.Action == "AssumeRole":
			assumed = append(assumed, call)
		case slices.Contains(call.InstanceIDs, "i-uf6acctb00002"):
			t.Errorf("B's or C's instance was sent: %+v", call)
		}
	}
	if len(assumed) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1 (B and C wait for A's)", len(assumed))
	}
	in := assumed[0]
	if in.RoleSessionName != "start-ecs-start-ecs" || in.DurationSeconds != "900" || in.ExternalID != external || in.HTTPStatus != 200 {
		t.Errorf("AssumeRole %+v", in)
	}
	for _, action := range []string{"ecs:StartInstances", "ecs:DescribeInstances", "ecs:DescribeInstanceStatus"} {
		if !strings.Contains(in.Policy, `"`+action+`"`) {
			t.Errorf("the session policy %s lacks %s", in.Policy, action)
		}
	}
	if strings.Count(in.Policy, "ecs:") != 3 {
		t.Errorf("the session policy %s allows more than the three actions", in.Policy)
	}
	if strings.Contains(h.Fn.Output(), external) {
		t.Error("ROLE_EXTERNAL_ID reached the function's output")
	}
}

// DESIGN §3.1 roleArn: "an expiry STS gives in the past or unreadable: for
// this invocation only" — one AssumeRole per invocation, not one before
// every ECS call, and none reused by the next invocation.
func TestUnusableSTSExpiryServesOneInvocation(t *testing.T) {
	t.Parallel()
	for _, expiry := range []string{"2000-01-01T00:00:00Z", "soon"} {
		t.Run(expiry, func(t *testing.T) {
			h := startWith(t, twoAccounts(t), map[string]string{"ALLOWED_ROLE_ARNS": roleB},
				ecsemu.Options{Roles: []ecsemu.Role{{Arn: roleB, Expiration: expiry}}})
			req := []byte(`{"targets":[{"regionId":"cn-shanghai","roleArn":"` + roleB + `","tags":[{"key":"app","value":"web"}]},
				{"regionId":"cn-shanghai","roleArn":"` + roleB + `","instanceIds":["i-uf6acctb00001"]}],"wait":"20s"}`)
			count := func() (assumed, withRole int) {
				for _, c := range h.ECS.Calls() {
					switch {
					case c.Action == "AssumeRole":
						assumed++
					case c.AccessKeyID != harness.Role.AccessKeyID:
						withRole++
					}
				}
				return assumed, withRole
			}
			r := result(t, invoke(t, h, req))
			if r.Summary.Started != 2 {
				t.Fatalf("%+v", r)
			}
			if assumed, calls := count(); assumed != 1 || calls < 3 {
				t.Fatalf("%d AssumeRole calls for %d ECS calls with the role, want 1", assumed, calls)
			}
			invoke(t, h, req)
			if assumed, _ := count(); assumed != 2 {
				t.Fatalf("%d AssumeRole calls after two invocations, want 2: such credentials are not kept", assumed)
			}
		})
	}
}
