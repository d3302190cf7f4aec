package e2e

import (
	"strings"
	"testing"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

const (
	accountB = "1222333444555666"
	roleB    = "acs:ram::" + accountB + ":role/start-ecs-target"
)

// twoAccounts is the sample fleet, which holds account B's instances
// i-uf6acctb00001 and i-uf6acctb00002 (cn-shanghai, app=web), a scheduled
// one (start-schedule=office) and its role.
func twoAccounts(t *testing.T) ecsemu.Fleet {
	fl := fleet(t)
	n := 0
	for _, in := range fl.Instances {
		if in.AccountID == accountB && in.Tags["app"] == "web" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("testdata/fleet.json holds %d instances of account %s, want 2", n, accountB)
	}
	return fl
}

// Two regions and two accounts in one request, through the real binary: the
// role is assumed once (STS's signature and token checked by the emulator),
// account B's instances are started with the assumed credentials and carry
// AccountId in the answer and the log; the same instance named without the
// role is not found with the function's own credentials.
func TestTargetsTwoRegionsTwoAccounts(t *testing.T) {
	t.Parallel()
	h := startWith(t, twoAccounts(t), map[string]string{"ALLOWED_ROLE_ARNS": roleB}, ecsemu.Options{Roles: []ecsemu.Role{{Arn: roleB}}})
	body := `{"targets":[
		{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]},
		{"regionId":"cn-shanghai","instanceIds":["i-uf6shanghaidemo01"]},
		{"regionId":"cn-shanghai","roleArn":"` + roleB + `","tags":[{"key":"app","value":"web"}]}]}`
	out := invoke(t, h, []byte(body))
	r := result(t, out)
	got := outcomes(r)
	if len(got) != 4 || r.Summary.Started != 4 {
		t.Fatalf("%+v", r)
	}
	for id, want := range map[string][2]string{"i-bp67acfmxazb4p0001": {"cn-hangzhou", ""}, "i-uf6shanghaidemo01": {"cn-shanghai", ""},
		"i-uf6acctb00001": {"cn-shanghai", accountB}, "i-uf6acctb00002": {"cn-shanghai", accountB}} {
		if ir := got[id]; ir.Outcome != hresult.Started || ir.RegionID != want[0] || ir.AccountID != want[1] {
			t.Errorf("%s: %+v, want Started in %s account %q", id, ir, want[0], want[1])
		}
	}
	accounts := 0
	for _, l := range out.LogsOf("instance") {
		if l["accountId"] == accountB {
			accounts++
		}
	}
	if accounts != 2 {
		t.Errorf("%d log lines with accountId %s, want 2", accounts, accountB)
	}
	assumed, home := 0, 0
	for _, c := range h.ECS.Calls() {
		switch {
		case c.Action == "AssumeRole":
			assumed++
			if c.RoleArn != roleB || c.DurationSeconds != "900" || !strings.HasPrefix(c.RoleSessionName, "start-ecs-") || c.AccessKeyID != harness.Role.AccessKeyID || c.HTTPStatus != 200 {
				t.Errorf("AssumeRole %+v", c)
			}
		case c.AccessKeyID == harness.Role.AccessKeyID:
			home++
			if c.RegionID == "cn-shanghai" && len(c.Tags) > 0 {
				t.Errorf("account B's tags looked up with the function's own credentials: %+v", c)
			}
		case !c.HasSecurityToken || c.HTTPStatus != 200:
			t.Errorf("a call with the assumed credentials %+v", c)
		}
	}
	if assumed != 1 || home == 0 {
		t.Fatalf("%d AssumeRole calls, %d with the home credentials", assumed, home)
	}
	// Without roleArn the function's own credentials do not see account B's instance.
	r = result(t, invoke(t, h, []byte(`{"regionId":"cn-shanghai","instanceIds":["i-uf6acctb00001"]}`)))
	if ir := outcomes(r)["i-uf6acctb00001"]; ir.Outcome != hresult.Failed || ir.AccountID != "" {
		t.Fatalf("account B's instance without its role: %+v", ir)
	}
	// A second invocation reuses the assumed credentials: no new AssumeRole.
	invoke(t, h, []byte(`{"regionId":"cn-shanghai","roleArn":"`+roleB+`","instanceIds":["i-uf6acctb00002"]}`))
	n := 0
	for _, c := range h.ECS.Calls() {
		if c.Action == "AssumeRole" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d AssumeRole calls after two invocations, want 1", n)
	}
}

// A role not in ALLOWED_ROLE_ARNS is Rejected with no STS call; a role STS
// refuses fails its target's instances with STS's code and trust-policy
// advice (a 207 over HTTP), while the other target starts.
func TestRoleNotAllowedAndRefused(t *testing.T) {
	t.Parallel()
	other := "acs:ram::1999888777666555:role/start-ecs-target"
	h := startWith(t, twoAccounts(t), map[string]string{"ALLOWED_ROLE_ARNS": roleB, "HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret},
		ecsemu.Options{Roles: []ecsemu.Role{{Arn: roleB, Refuse: "NoPermission"}}})
	r := result(t, invoke(t, h, []byte(`{"regionId":"cn-shanghai","roleArn":"`+other+`","instanceIds":["i-uf6acctb00001"]}`)))
	if ir := outcomes(r)["i-uf6acctb00001"]; ir.Outcome != hresult.Rejected || ir.Code != "Forbidden.NotAllowed" || !strings.Contains(ir.Message, "ALLOWED_ROLE_ARNS") {
		t.Fatalf("%+v", r)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d calls for a role not allowed, want none (no STS call)", n)
	}
	a := httpResult(t, invoke(t, h, httpEvent(`{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0002"]},
		{"regionId":"cn-shanghai","roleArn":"`+roleB+`","instanceIds":["i-uf6acctb00002"]}]}`, bearer(), nil)))
	got := outcomes(a.Result)
	if ir := got["i-uf6acctb00002"]; ir.Outcome != hresult.Failed || ir.Code != "NoPermission" || !strings.Contains(ir.Advice, "trust policy") || ir.AccountID != accountB {
		t.Fatalf("%+v", a.Result)
	}
	if got["i-bp67acfmxazb4p0002"].Outcome != hresult.Started || a.StatusCode != 207 {
		t.Fatalf("%d %+v", a.StatusCode, a.Result)
	}
}
