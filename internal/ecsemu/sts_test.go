package ecsemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const testRole = "acs:ram::1222333444555666:role/start-ecs-target"

// assumeParams are AssumeRole's parameters, signed by c.
func assumeParams(c Credential, role string) url.Values {
	p := signed(http.MethodPost, c, "AssumeRole", url.Values{"Version": {stsVersion}, "RoleArn": {role},
		"RoleSessionName": {"start-ecs-test"}, "DurationSeconds": {"900"}})
	return p
}

// AssumeRole is checked like ECS calls (signature, token), hands out a
// credential of the role's account, and ECS answers that credential about
// that account's instances only — and the home credentials not about them.
func TestEmuAssumeRoleAndAccounts(t *testing.T) {
	fl, err := ParseFleet([]byte(`{"instances": [
	 {"instanceId": "i-home0001", "regionId": "cn-shanghai", "status": "Stopped"},
	 {"instanceId": "i-acctb0001", "regionId": "cn-shanghai", "status": "Stopped", "accountId": "1222333444555666"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, Options{Fleet: fl, Roles: []Role{{Arn: testRole}, {Arn: "acs:ram::1999888777666555:role/refusing", Refuse: "NoPermission"}}})

	bad := assumeParams(stsCred, testRole)
	bad.Set("Signature", "AAAA")
	wantError(t, send(t, srv, http.MethodPost, bad), http.StatusBadRequest, "SignatureDoesNotMatch")
	noToken := assumeParams(stsCred, testRole)
	noToken.Set("SecurityToken", "token-of-otherkey")
	noToken.Set("Signature", Sign(http.MethodPost, noToken, stsCred.AccessKeySecret))
	if a := send(t, srv, http.MethodPost, noToken); a.status == http.StatusOK {
		t.Fatalf("a token of another key was accepted: %s", a.raw)
	}
	wantError(t, send(t, srv, http.MethodPost, assumeParams(stsCred, "acs:ram::1222333444555666:role/nobody")), http.StatusNotFound, "EntityNotExist.Role")
	wantError(t, send(t, srv, http.MethodPost, assumeParams(stsCred, "acs:ram::1999888777666555:role/refusing")), http.StatusForbidden, "NoPermission")

	a := send(t, srv, http.MethodPost, assumeParams(stsCred, testRole))
	if a.status != http.StatusOK {
		t.Fatalf("AssumeRole: %s", a.raw)
	}
	cr, _ := a.body["Credentials"].(map[string]any)
	b := Credential{AccessKeyID: cr["AccessKeyId"].(string), AccessKeySecret: cr["AccessKeySecret"].(string), SecurityToken: cr["SecurityToken"].(string)}
	if b.AccessKeyID == "" || b.SecurityToken == "" || cr["Expiration"] == "" {
		t.Fatalf("%s", a.raw)
	}
	// The assumed credential may not assume roles in turn (its account is not the home one).
	wantError(t, send(t, srv, http.MethodPost, assumeParams(b, testRole)), http.StatusForbidden, "NoPermission")

	start := func(c Credential, id string) answer {
		p := startParams("SuccessFirst", false, id)
		p.Set("RegionId", "cn-shanghai")
		return send(t, srv, http.MethodPost, signed(http.MethodPost, c, "StartInstances", p))
	}
	wantError(t, start(stsCred, "i-acctb0001"), http.StatusNotFound, "InvalidInstanceIds.NotFound")
	wantError(t, start(b, "i-home0001"), http.StatusNotFound, "InvalidInstanceIds.NotFound")
	if a := start(b, "i-acctb0001"); a.status != http.StatusOK {
		t.Fatalf("account B's credential starting its instance: %s", a.raw)
	}
	if got := srv.Assumed()["1222333444555666"]; len(got) != 1 {
		t.Fatalf("assumed %+v", srv.Assumed())
	}
}

// AssumeRole's parameters are checked as STS documents them and recorded:
// RoleSessionName 2 to 64 of [\w.@-], ExternalId matched against the role's
// trust condition, Policy a policy document; Expiration as the role says.
func TestEmuAssumeRoleParameters(t *testing.T) {
	const guarded = "acs:ram::1222333444555666:role/guarded"
	srv := newTestServer(t, Options{Roles: []Role{{Arn: guarded, ExternalID: "tenant-7", Expiration: "soon"}}})
	with := func(mod func(url.Values)) answer {
		p := url.Values{"Version": {stsVersion}, "RoleArn": {guarded}, "RoleSessionName": {"start-ecs-fn"}, "DurationSeconds": {"900"},
			"ExternalId": {"tenant-7"}, "Policy": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:StartInstances"],"Resource":"*"}]}`}}
		mod(p)
		return send(t, srv, http.MethodPost, signed(http.MethodPost, stsCred, "AssumeRole", p))
	}
	wantError(t, with(func(p url.Values) { p.Set("RoleSessionName", "a") }), http.StatusBadRequest, "InvalidParameter.RoleSessionName")
	wantError(t, with(func(p url.Values) { p.Set("RoleSessionName", "start ecs") }), http.StatusBadRequest, "InvalidParameter.RoleSessionName")
	wantError(t, with(func(p url.Values) { p.Del("ExternalId") }), http.StatusForbidden, "NoPermission")
	wantError(t, with(func(p url.Values) { p.Set("ExternalId", "tenant-8") }), http.StatusForbidden, "NoPermission")
	wantError(t, with(func(p url.Values) { p.Set("ExternalId", "x") }), http.StatusBadRequest, "InvalidParameter.ExternalId")
	wantError(t, with(func(p url.Values) { p.Set("Policy", "{not json") }), http.StatusBadRequest, "InvalidParameter.PolicyGrammar")
	a := with(func(url.Values) {})
	if a.status != http.StatusOK {
		t.Fatalf("%s", a.raw)
	}
	if cr, _ := a.body["Credentials"].(map[string]any); cr["Expiration"] != "soon" {
		t.Errorf("Expiration %v, want the role's", cr["Expiration"])
	}
	calls := srv.Calls()
	last := calls[len(calls)-1]
	if last.ExternalID != "tenant-7" || !strings.Contains(last.Policy, "ecs:StartInstances") || last.RoleSessionName != "start-ecs-fn" {
		t.Errorf("recorded %+v", last)
	}
}
