package handler

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
)

// runBy runs one invocation whose deadline is in left (none when 0).
func runBy(h *Handler, left time.Duration, msgs ...events.Message) (*result.Result, time.Duration) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	inv := testInvocation(h)
	if left > 0 {
		ctx, cancel = context.WithTimeout(ctx, left)
		inv.deadline, _ = ctx.Deadline()
	}
	defer cancel()
	began := time.Now()
	res := h.run(ctx, inv, msgs, time.Time{})
	return res, time.Since(began)
}

// wantNotSent checks DESIGN §5: "An instance the deadline kept from being
// sent is Unfinished (DeadlineExceeded, safe to retry) and its message says
// it was not sent, never 'may or may not have happened'."
func wantNotSent(t *testing.T, ir result.InstanceResult) {
	t.Helper()
	if ir.Outcome != result.Unfinished || ir.Code != result.CodeDeadlineExceeded || !ir.Retryable ||
		!strings.Contains(ir.Message, "not sent") || strings.Contains(ir.Message, "may or may not") {
		t.Errorf("%+v: want Unfinished DeadlineExceeded saying it was not sent", ir)
	}
}

// DESIGN §5 the deadline: "No wait is exempt: not for a lock or a cache
// that another invocation holds (an STS AssumeRole in flight for the same
// role)". Before, the role cache held a lock across AssumeRole: B, with a
// 1 s deadline, answered when A's call ended.
func TestAssumeRoleInFlightWaitedForOnlyUntilTheDeadline(t *testing.T) {
	const a, b = "i-rolewaita01", "i-rolewaitb01"
	sts := &fakeSTS{delay: 2500 * time.Millisecond}
	h, e := targetsHandler(t, ecsapitest.Stopped([]string{a, b}), sts)
	req := func(id string) events.Message {
		return msg(id, events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{id}, RoleArn: roleB})
	}
	var resA *result.Result
	var wg sync.WaitGroup
	wg.Go(func() { resA, _ = runBy(h, 10*time.Second, req(a)) })
	for sts.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	resB, took := runBy(h, time.Second, req(b))
	if took > 1100*time.Millisecond {
		t.Errorf("B, with a 1 s deadline, answered after %s: it waited on A's AssumeRole past its deadline", took)
	}
	wantNotSent(t, byID(resB)[b])
	wg.Wait()
	if ir := byID(resA)[a]; ir.Outcome != result.Started {
		t.Errorf("A: %+v", ir)
	}
	if n := sts.count(); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1: B waits for A's call in flight rather than making its own", n)
	}
	for _, c := range e.Calls() {
		if slices.Contains(c.InstanceIDs, b) {
			t.Errorf("B's instance was sent: %+v", c)
		}
	}
}

// The AssumeRole an invocation makes itself is cut at its deadline too,
// and then its instances were not sent; an invocation that waited on
// another's call, which that one's deadline cut, makes its own.
func TestAssumeRoleCutByTheDeadline(t *testing.T) {
	const a, c = "i-rolecuta001", "i-rolecutc001"
	sts := &fakeSTS{delay: 1500 * time.Millisecond}
	h, _ := targetsHandler(t, ecsapitest.Stopped([]string{a, c}), sts)
	req := func(id string) events.Message {
		return msg(id, events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{id}, RoleArn: roleB})
	}
	var resA *result.Result
	var tookA time.Duration
	var wg sync.WaitGroup
	wg.Go(func() { resA, tookA = runBy(h, 700*time.Millisecond, req(a)) })
	for sts.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	resC, _ := runBy(h, 10*time.Second, req(c))
	wg.Wait()
	if tookA > 800*time.Millisecond {
		t.Errorf("A answered after %s, past its 700 ms deadline", tookA)
	}
	wantNotSent(t, byID(resA)[a])
	if ir := byID(resC)[c]; ir.Outcome != result.Started {
		t.Errorf("C, which waited on A's call until A's deadline cut it: %+v", ir)
	}
	if n := sts.count(); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2 (A's, cut; then C's)", n)
	}
}

// outECS holds every StartInstances call out until the caller's deadline:
// ECS never answers.
type outECS struct {
	*ecsapitest.ECS
	mu   sync.Mutex
	sent [][]string
}

func (o *outECS) StartInstances(ctx context.Context, _ ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	o.mu.Lock()
	o.sent = append(o.sent, append([]string(nil), in.InstanceIDs...))
	o.mu.Unlock()
	<-ctx.Done()
	return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "fake", Err: ctx.Err()}
}

// DESIGN §5: every place that says "may or may not have happened" is one
// where the call was out. A call that waited for a place among the calls
// in flight until the deadline was not sent.
func TestOnlyACallThatWasOutMayHaveHappened(t *testing.T) {
	ids := []string{"i-notsent0001", "i-notsent0002"}
	e := &outECS{ECS: ecsapitest.NewFleet(ecsapitest.Stopped(ids)).ECS()}
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
	h.starter.MaxConcurrent = 1
	res, _ := runBy(h, 600*time.Millisecond,
		msg("a", events.StartRequest{InstanceIDs: ids[:1], BatchOptimization: ecsapi.AllTogether}),
		msg("b", events.StartRequest{InstanceIDs: ids[1:], BatchOptimization: ecsapi.AllTogether}))
	if len(e.sent) != 1 {
		t.Fatalf("%d calls sent, want 1 (one place in flight)", len(e.sent))
	}
	got := byID(res)
	out, waited := got[e.sent[0][0]], got[ids[0]]
	if e.sent[0][0] == ids[0] {
		waited = got[ids[1]]
	}
	if out.Outcome != result.Unfinished || !strings.Contains(out.Message, "may or may not") {
		t.Errorf("the call that was out: %+v", out)
	}
	wantNotSent(t, waited)
}

// DESIGN §3.1 roleArn: credentials whose expiry STS gives in the past or
// unreadable serve this invocation only: one AssumeRole per invocation, not
// one before every call (before: 5 for 5 calls), and none kept for the next.
func TestUnusableExpiryServesOneInvocation(t *testing.T) {
	regions := []string{"cn-shanghai", "cn-beijing", "cn-hangzhou", "cn-shenzhen", "cn-qingdao"}
	for _, expiry := range []string{"past", "unreadable"} {
		t.Run(expiry, func(t *testing.T) {
			sts := &fakeSTS{expiry: expiry}
			var ids []string
			var targets []events.StartRequest
			for i, r := range regions {
				id := "i-expiry0000" + string(rune('1'+i))
				ids = append(ids, id)
				targets = append(targets, events.StartRequest{RegionID: r, InstanceIDs: []string{id}, RoleArn: roleB})
			}
			h, e := targetsHandler(t, ecsapitest.Stopped(ids), sts)
			res, _ := runBy(h, 0, msg("t", events.StartRequest{Targets: targets}))
			for _, id := range ids {
				if ir := byID(res)[id]; ir.Outcome != result.Started {
					t.Fatalf("%s: %+v", id, ir)
				}
			}
			if n, calls := sts.count(), len(e.Calls()); n != 1 || calls != len(ids) {
				t.Fatalf("%d AssumeRole calls for %d StartInstances calls, want 1", n, calls)
			}
			runBy(h, 0, msg("t", events.StartRequest{Targets: targets}))
			if n := sts.count(); n != 2 {
				t.Fatalf("%d AssumeRole calls after two invocations, want 2: such credentials are not kept for the next", n)
			}
		})
	}
}

// DESIGN §3.1 roleArn: RoleSessionName start-ecs-<function name> (stable,
// from the invocation's context, else FC_FUNCTION_NAME), DurationSeconds
// 900, ExternalId ROLE_EXTERNAL_ID, a session Policy allowing only the ECS
// actions the function calls, and the function's region for STS_ENDPOINT.
func TestAssumeRoleParameters(t *testing.T) {
	const c = "i-roleparams1"
	const external = "tenant-7:start/ecs=ok"
	sts := &fakeSTS{}
	e := ecsapitest.NewFleet(ecsapitest.Stopped([]string{c})).ECS()
	h, out := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_ROLE_ARNS": roleB,
		"ROLE_EXTERNAL_ID": external, "FC_FUNCTION_NAME": "from-env", "FC_REGION": "cn-beijing"}, e)
	h.SetSTS(sts)
	req := msg("r", events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleB})

	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-params", Region: "cn-zhangjiakou",
		Function:    fccontext.Function{Name: "start-ecs-prod"},
		Credentials: fccontext.Credentials{AccessKeyId: "STS.k", AccessKeySecret: "secret-value-xyz", SecurityToken: "token-value-xyz"}})
	h.run(ctx, h.newInvocation(ctx), []events.Message{req}, time.Time{})
	h.starter.Roles = starter.NewRoleCache(sts) // forget the credentials
	inv := testInvocation(h)                    // no FC context: the environment's
	h.run(context.Background(), inv, []events.Message{req}, time.Time{})

	if len(sts.calls) != 2 {
		t.Fatalf("%d calls", len(sts.calls))
	}
	for i, want := range []struct{ session, region string }{{"start-ecs-start-ecs-prod", "cn-zhangjiakou"}, {"start-ecs-from-env", "cn-beijing"}} {
		in := sts.calls[i]
		if in.RoleSessionName != want.session || in.Region != want.region || in.DurationSeconds != 900 || in.ExternalID != external || in.RoleArn != roleB {
			t.Errorf("call %d: %+v, want session %s, region %s", i, in, want.session, want.region)
		}
		var policy struct {
			Version   string
			Statement []struct {
				Effect   string
				Action   []string
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(in.Policy), &policy); err != nil || len(policy.Statement) != 1 || policy.Statement[0].Effect != "Allow" ||
			!slices.Equal(policy.Statement[0].Action, []string{"ecs:StartInstances", "ecs:DescribeInstances", "ecs:DescribeInstanceStatus"}) {
			t.Errorf("session policy %s (%v)", in.Policy, err)
		}
	}
	if strings.Contains(out.String(), external) {
		t.Error("ROLE_EXTERNAL_ID was logged")
	}
}

// DESIGN §6 ROLE_EXTERNAL_ID: 2 to 1,224 of STS's characters, else a
// configuration error that does not repeat the value.
func TestRoleExternalIDChecked(t *testing.T) {
	for _, v := range []string{"Q", strings.Repeat("a", 1225), "has space-secretish", "tab\tvalue"} {
		_, err := ConfigFromEnv(envOf(map[string]string{"ROLE_EXTERNAL_ID": v}))
		if err == nil || !strings.Contains(err.Error(), "ROLE_EXTERNAL_ID") || strings.Contains(err.Error(), v) {
			t.Errorf("ROLE_EXTERNAL_ID %.20q: %v", v, err)
		}
	}
	for _, v := range []string{"ab", strings.Repeat("a", 1224), "A_b+c=d,e.f@g:h/i-j"} {
		if cfg, err := ConfigFromEnv(envOf(map[string]string{"ROLE_EXTERNAL_ID": v})); err != nil || cfg.RoleExternalID != v {
			t.Errorf("ROLE_EXTERNAL_ID %.20q refused: %v", v, err)
		}
	}
}

// DESIGN §6 STS_ENDPOINT: {regionId} is the function's own region; unset,
// the VPC endpoint of that region when ECS_ENDPOINT names VPC endpoints,
// else STS's public endpoint.
func TestSTSEndpointFollowsTheFunctionsRegion(t *testing.T) {
	for _, tc := range []struct{ ecs, sts, want string }{
		{"", "", "https://sts.aliyuncs.com"},
		{"https://ecs.{regionId}.aliyuncs.com", "", "https://sts.aliyuncs.com"},
		{"https://ecs-vpc.{regionId}.aliyuncs.com", "", "https://sts-vpc.{regionId}.aliyuncs.com"},
		{"https://ecs-vpc.cn-shanghai.aliyuncs.com", "", "https://sts-vpc.{regionId}.aliyuncs.com"},
		{"https://ecs-vpc.{regionId}.aliyuncs.com", "https://sts.cn-shanghai.aliyuncs.com", "https://sts.cn-shanghai.aliyuncs.com"},
		{"", "https://sts.{regionId}.aliyuncs.com", "https://sts.{regionId}.aliyuncs.com"},
	} {
		cfg, err := ConfigFromEnv(envOf(map[string]string{"ECS_ENDPOINT": tc.ecs, "STS_ENDPOINT": tc.sts}))
		if err != nil || cfg.STSEndpoint != tc.want {
			t.Errorf("ECS_ENDPOINT %q, STS_ENDPOINT %q: %q (%v), want %q", tc.ecs, tc.sts, cfg.STSEndpoint, err, tc.want)
		}
	}
}
