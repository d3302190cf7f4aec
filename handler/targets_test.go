package handler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

const (
	roleB     = "acs:ram::1222333444555666:role/start-ecs-target"
	roleOther = "acs:ram::1999888777666555:role/start-ecs-target"
)

// fakeSTS hands out credentials per role, or refuses with an APIError.
type fakeSTS struct {
	mu     sync.Mutex
	calls  []ecsapi.AssumeRoleInput
	refuse map[string]*ecsapi.APIError
	valid  time.Duration // how long the credentials it hands out last
	// delay is how long each call takes to answer (cut short by the
	// caller's context, as the SDK's transport is).
	delay time.Duration
	// expiry, when set, is the Expiration handed out instead of now+valid:
	// "past", or "unreadable" (zero, as the SDK adapter gives).
	expiry string
}

func (f *fakeSTS) AssumeRole(ctx context.Context, creds ecsapi.Credentials, in ecsapi.AssumeRoleInput) (*ecsapi.AssumedRole, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	f.mu.Unlock()
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, &ecsapi.NetworkError{Op: "AssumeRole", Host: "fake", Err: ctx.Err()}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if creds.Empty() {
		return nil, &ecsapi.APIError{HTTPStatus: 400, Code: "MissingAccessKeyId"}
	}
	if e := f.refuse[in.RoleArn]; e != nil {
		return nil, e
	}
	valid := f.valid
	if valid == 0 {
		valid = time.Duration(in.DurationSeconds) * time.Second
	}
	exp := time.Now().Add(valid)
	switch f.expiry {
	case "past":
		exp = time.Now().Add(-time.Hour)
	case "unreadable":
		exp = time.Time{}
	}
	return &ecsapi.AssumedRole{Credentials: ecsapi.Credentials{AccessKeyID: "STS.assumed-" + ecsapi.AccountOf(in.RoleArn), AccessKeySecret: "assumed-secret-of-" + ecsapi.AccountOf(in.RoleArn), SecurityToken: "assumed-token"},
		Expiration: exp, RequestID: "req-sts"}, nil
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// DESIGN §3.1: targets and roleArn are validated like the rest, errors
// naming the target's field.
func TestValidateTargetsAndRoleArn(t *testing.T) {
	id := []string{"i-bp67acfmxazb4p0001"}
	ok := events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: id}
	tests := []struct {
		name  string
		req   events.StartRequest
		field string
		text  string
	}{
		{"role not an ARN", events.StartRequest{InstanceIDs: id, RoleArn: "arn:aws:iam::1:role/x"}, "roleArn", "role's ARN"},
		{"a target's role", events.StartRequest{Targets: []events.StartRequest{ok, ok, {RegionID: "cn-beijing", InstanceIDs: id, RoleArn: "acs:ram::12:user/x"}}}, "targets[2].roleArn", "role's ARN"},
		{"a target's bad ID", events.StartRequest{Targets: []events.StartRequest{{RegionID: "cn-shanghai", InstanceIDs: []string{"i-x"}}}}, "targets[0].instanceIds[0]", "not an instance ID"},
		{"targets beside instanceIds", events.StartRequest{InstanceIDs: id, Targets: []events.StartRequest{ok}}, "instanceIds", "beside targets"},
		{"targets beside tags", events.StartRequest{Tags: []events.TagFilter{{Key: "env"}}, Targets: []events.StartRequest{ok}}, "tags", "beside targets"},
		{"no targets", events.StartRequest{Targets: []events.StartRequest{}}, "targets", "1 to 50"},
		{"51 targets", events.StartRequest{Targets: make([]events.StartRequest, 51)}, "targets", "at most 50"},
		{"targets in a target", events.StartRequest{Targets: []events.StartRequest{{RegionID: "cn-shanghai", Targets: []events.StartRequest{ok}}}}, "targets[0].targets", "cannot hold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range plan.Validate(tc.req) {
				if e.Field == tc.field && strings.Contains(e.Message, tc.text) {
					return
				}
			}
			t.Fatalf("errors %+v, want %s with %q", plan.Validate(tc.req), tc.field, tc.text)
		})
	}
	if errs := plan.Validate(events.StartRequest{Targets: []events.StartRequest{ok, {RegionID: "cn-beijing", InstanceIDs: id, RoleArn: roleB}}}); len(errs) > 0 {
		t.Errorf("valid targets refused: %+v", errs)
	}
}

// targetsHandler runs a fleet behind a fake STS with ALLOWED_ROLE_ARNS=roleB.
func targetsHandler(t *testing.T, status map[string]string, sts *fakeSTS) (*Handler, *ecsapitest.ECS) {
	t.Helper()
	e := ecsapitest.NewFleet(status).ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_ROLE_ARNS": roleB}, e)
	h.SetSTS(sts)
	return h, e
}

// Two regions and two accounts in one request: each instance is reported once
// with its region (and account), the other account's started with the
// assumed credentials; the role is assumed once, with the function's
// session name and 900 s, and reused by the next invocation.
func TestTargetsAcrossRegionsAndAccounts(t *testing.T) {
	const a, b, c = "i-tgthz00001", "i-tgtsh00001", "i-tgtacct001"
	sts := &fakeSTS{}
	h, e := targetsHandler(t, ecsapitest.Stopped([]string{a, b, c}), sts)
	req := events.StartRequest{Targets: []events.StartRequest{
		{RegionID: "cn-hangzhou", InstanceIDs: []string{a}},
		{RegionID: "cn-shanghai", InstanceIDs: []string{b}},
		{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleB},
	}}
	for round := range 2 {
		res := h.run(context.Background(), testInvocation(h), []events.Message{msg("targets", req)}, time.Time{})
		got := byID(res)
		if len(got) != 3 || got[a].RegionID != "cn-hangzhou" || got[b].RegionID != "cn-shanghai" || got[c].RegionID != "cn-shanghai" ||
			got[c].AccountID != "1222333444555666" || got[a].AccountID != "" || got[b].AccountID != "" {
			t.Fatalf("round %d: %+v", round, res.InstanceResponses.InstanceResponse)
		}
		for id, ir := range got {
			if ir.Outcome != result.Started && round == 0 {
				t.Errorf("%s: %+v", id, ir)
			}
		}
	}
	if n := sts.count(); n != 1 {
		t.Fatalf("%d AssumeRole calls over two invocations, want 1 (reused until 5 min before expiry)", n)
	}
	if in := sts.calls[0]; in.RoleArn != roleB || in.DurationSeconds != 900 || in.RoleSessionName != "start-ecs" {
		t.Errorf("AssumeRole %+v", in)
	}
	e.Mu.Lock()
	defer e.Mu.Unlock()
	for i, call := range e.StartCalls {
		wantOther := call.InstanceIDs[0] == c
		if (e.StartCreds[i].AccessKeyID == "STS.assumed-1222333444555666") != wantOther || call.RegionID == "" || strings.Contains(call.RegionID, "|") {
			t.Errorf("call %+v made with %s", call, e.StartCreds[i].AccessKeyID)
		}
	}
}

// Credentials with less than 5 minutes left are assumed again.
func TestAssumedCredentialsRenewedBeforeExpiry(t *testing.T) {
	const c = "i-tgtrenew01"
	sts := &fakeSTS{valid: 4 * time.Minute}
	h, _ := targetsHandler(t, ecsapitest.Stopped([]string{c}), sts)
	req := events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleB}
	h.run(context.Background(), testInvocation(h), []events.Message{msg("r", req)}, time.Time{})
	first := sts.count()
	h.run(context.Background(), testInvocation(h), []events.Message{msg("r", req)}, time.Time{})
	if first == 0 || sts.count() <= first {
		t.Fatalf("%d then %d AssumeRole calls: credentials expiring within 5 min must be assumed again", first, sts.count())
	}
}

// A role outside ALLOWED_ROLE_ARNS (and any while it is empty) is Rejected
// with no STS call; a tag selection through it is not looked up.
func TestRoleNotAllowed(t *testing.T) {
	const c = "i-tgtdeny001"
	sts := &fakeSTS{}
	h, e := targetsHandler(t, ecsapitest.Stopped([]string{c}), sts)
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("ids", events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleOther}),
		msg("tags", events.StartRequest{RegionID: "cn-shanghai", Tags: []events.TagFilter{{Key: "env"}}, RoleArn: roleOther}),
	}, time.Time{})
	got := byID(res)
	if got[c].Outcome != result.Rejected || got[c].Code != result.CodeNotAllowed || !strings.Contains(got[c].Message, "is not in ALLOWED_ROLE_ARNS") || got[c].AccountID != "1999888777666555" {
		t.Fatalf("%+v", got[c])
	}
	// The list is set: the refusal does not say it is empty.
	if strings.Contains(got[c].Message, "empty") {
		t.Errorf("a set ALLOWED_ROLE_ARNS called empty: %s", got[c].Message)
	}
	if len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeNotAllowed || !strings.Contains(res.Ignored[0].Reason, "ALLOWED_ROLE_ARNS") {
		t.Fatalf("%+v", res.Ignored)
	}
	if sts.count() != 0 || len(e.Calls()) != 0 || e.Describes != 0 {
		t.Fatalf("%d STS calls, %d starts, %d lookups: want none", sts.count(), len(e.Calls()), e.Describes)
	}
	// ALLOWED_ROLE_ARNS empty: no role at all.
	h2, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, ecsapitest.NewFleet(ecsapitest.Stopped([]string{c})).ECS())
	h2.SetSTS(sts)
	res = h2.run(context.Background(), testInvocation(h2), []events.Message{msg("ids", events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleB})}, time.Time{})
	if got := byID(res)[c]; got.Outcome != result.Rejected || sts.count() != 0 || !strings.Contains(got.Message, "ALLOWED_ROLE_ARNS is empty") {
		t.Fatalf("with ALLOWED_ROLE_ARNS empty: %+v, %d STS calls", got, sts.count())
	}
}

// A refused AssumeRole fails that target's instances with STS's code and an
// Advice about the trust policy; the other targets go on.
func TestRefusedAssumeRole(t *testing.T) {
	const a, c = "i-tgtown0001", "i-tgtrefus01"
	sts := &fakeSTS{refuse: map[string]*ecsapi.APIError{roleB: {HTTPStatus: 403, Code: "NoPermission", Message: "You are not authorized to do this action.", RequestID: "req-sts-no"}}}
	h, e := targetsHandler(t, ecsapitest.Stopped([]string{a, c}), sts)
	res := h.run(context.Background(), testInvocation(h), []events.Message{msg("t", events.StartRequest{Targets: []events.StartRequest{
		{RegionID: "cn-hangzhou", InstanceIDs: []string{a}},
		{RegionID: "cn-shanghai", InstanceIDs: []string{c}, RoleArn: roleB},
	}})}, time.Time{})
	got := byID(res)
	if got[a].Outcome != result.Started {
		t.Errorf("own account: %+v", got[a])
	}
	if ir := got[c]; ir.Outcome != result.Failed || ir.Code != "NoPermission" || !strings.Contains(ir.Advice, "trust policy") ||
		!strings.Contains(ir.Message, "AssumeRole") || ir.AccountID != "1222333444555666" || ir.Retryable {
		t.Fatalf("%+v", ir)
	}
	for _, call := range e.Calls() {
		if call.InstanceIDs[0] == c {
			t.Fatal("an instance of a role STS refused was sent to ECS")
		}
	}
}

// DESIGN §3.1: a sequence is 2 to 10 groups, each a valid request, alone in
// its request; an instance belongs to one group.
func TestValidateSequence(t *testing.T) {
	id := []string{"i-bp67acfmxazb4p0001"}
	g := events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-bp67acfmxazb4p0002"}}
	for _, tc := range []struct {
		req   events.StartRequest
		field string
	}{
		{events.StartRequest{Sequence: []events.StartRequest{g}}, "sequence"},
		{events.StartRequest{Sequence: make([]events.StartRequest, 11)}, "sequence"},
		{events.StartRequest{InstanceIDs: id, Sequence: []events.StartRequest{g, g}}, "instanceIds"},
		{events.StartRequest{Sequence: []events.StartRequest{g, {RegionID: "cn-hangzhou", InstanceIDs: []string{"i-x"}}}}, "sequence[1].instanceIds[0]"},
		{events.StartRequest{Sequence: []events.StartRequest{g, {RegionID: "cn-hangzhou", InstanceIDs: g.InstanceIDs}}}, "sequence[1].instanceIds[0]"},
		{events.StartRequest{Sequence: []events.StartRequest{g, {Sequence: []events.StartRequest{g, g}}}}, "sequence[1].sequence"},
	} {
		found := false
		for _, e := range plan.Validate(tc.req) {
			found = found || e.Field == tc.field
		}
		if !found {
			t.Errorf("%+v: errors %+v, want one naming %s", tc.req, plan.Validate(tc.req), tc.field)
		}
	}
	if errs := plan.Validate(events.StartRequest{RegionID: "cn-hangzhou", Sequence: []events.StartRequest{{InstanceIDs: id}, g}}); len(errs) > 0 {
		t.Errorf("a valid sequence refused: %+v", errs)
	}
}
