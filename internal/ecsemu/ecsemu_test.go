package ecsemu

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	akCred   = Credential{AccessKeyID: "LTAIplainkey", AccessKeySecret: "plain-secret"}
	stsCred  = Credential{AccessKeyID: "STS.tempkey", AccessKeySecret: "sts-secret", SecurityToken: "token-of-tempkey"}
	stsCred2 = Credential{AccessKeyID: "STS.otherkey", AccessKeySecret: "other-secret", SecurityToken: "token-of-otherkey"}
)

const testFleet = `{"instances": [
 {"instanceId": "i-stopped01", "regionId": "cn-hangzhou", "status": "Stopped", "tags": {"env": "prod"}},
 {"instanceId": "i-stopped02", "regionId": "cn-hangzhou", "status": "Stopped", "stoppedMode": "StopCharging"},
 {"instanceId": "i-running01", "regionId": "cn-hangzhou", "status": "Running", "tags": {"env": "dev"}},
 {"instanceId": "i-locked01", "regionId": "cn-hangzhou", "status": "Stopped", "lockReasons": ["security"]},
 {"instanceId": "i-arrears01", "regionId": "cn-hangzhou", "status": "Stopped", "lockReasons": ["financial"]},
 {"instanceId": "i-nostock01", "regionId": "cn-hangzhou", "status": "Stopped", "startError": "OperationDenied.NoStock"},
 {"instanceId": "i-notready01", "regionId": "cn-hangzhou", "status": "Stopped", "startError": "InstanceNotReady", "startErrorTimes": 1},
 {"instanceId": "i-shanghai01", "regionId": "cn-shanghai", "status": "Stopped"}
]}`

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	fleet, err := ParseFleet([]byte(testFleet))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Fleet.Instances == nil {
		opts.Fleet = fleet
	}
	if opts.Credentials == nil {
		opts.Credentials = []Credential{akCred, stsCred, stsCred2}
	}
	srv := New(opts)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

var nonceSeq atomic.Int64

// signed builds the parameters of a request signed the way signature
// version 1.0 prescribes.
func signed(method string, c Credential, action string, extra url.Values) url.Values {
	p := url.Values{
		"Action":           {action},
		"Version":          {"2014-05-26"},
		"Format":           {"JSON"},
		"AccessKeyId":      {c.AccessKeyID},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"},
		"SignatureNonce":   {"nonce-" + strconv.FormatInt(nonceSeq.Add(1), 10)},
		"Timestamp":        {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
	}
	if c.SecurityToken != "" {
		p.Set("SecurityToken", c.SecurityToken)
	}
	for k, v := range extra {
		p[k] = v
	}
	p.Set("Signature", Sign(method, p, c.AccessKeySecret))
	return p
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

func (a answer) code() string { s, _ := a.body["Code"].(string); return s }

func send(t *testing.T, srv *Server, method string, p url.Values) answer {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(t.Context(), method, srv.URL()+"/?"+p.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(t.Context(), method, srv.URL()+"/", strings.NewReader(p.Encode()))
	}
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, p.Get("Action"), err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	if p.Get("Format") != "XML" {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, raw)
		}
	}
	return a
}

func startParams(batch string, dryRun bool, ids ...string) url.Values {
	p := url.Values{"RegionId": {"cn-hangzhou"}}
	if batch != "" {
		p.Set("BatchOptimization", batch)
	}
	if dryRun {
		p.Set("DryRun", "true")
	}
	for i, id := range ids {
		p.Set("InstanceId."+strconv.Itoa(i+1), id)
	}
	return p
}

func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.code() != code {
		t.Fatalf("answer = %d %q, want %d %q: %s", a.status, a.code(), status, code, a.raw)
	}
	if a.body["RequestId"] == "" || a.body["Message"] == "" {
		t.Fatalf("error answer without RequestId or Message: %s", a.raw)
	}
}

func status(t *testing.T, srv *Server, id string) string {
	t.Helper()
	in, ok := srv.Instance(id)
	if !ok {
		t.Fatalf("instance %s missing", id)
	}
	return in.Status
}

func TestEmuSignatureKnownAnswer(t *testing.T) {
	// The worked example of the ECS signature documentation (signature
	// version 1.0), so that the emulator's signing is checked against an
	// outside reference and not only against itself.
	p := url.Values{
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"AccessKeyId":      {"testid"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := StringToSign("GET", p); got != wantSTS {
		t.Fatalf("StringToSign =\n%s\nwant\n%s", got, wantSTS)
	}
	if got, want := Sign("GET", p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestEmuSignature(t *testing.T) {
	srv := newTestServer(t, Options{})
	describe := url.Values{"RegionId": {"cn-hangzhou"}}

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if a := send(t, srv, method, signed(method, akCred, "DescribeInstances", describe)); a.status != 200 {
			t.Fatalf("%s with a valid signature: %d %s", method, a.status, a.raw)
		}
	}

	wrong := akCred
	wrong.AccessKeySecret = "not-the-secret"
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, wrong, "DescribeInstances", describe))
	wantError(t, a, 400, "SignatureDoesNotMatch")
	if !strings.Contains(a.body["Message"].(string), "server string to sign is:POST&%2F&") {
		t.Fatalf("SignatureDoesNotMatch should carry the server's StringToSign: %s", a.raw)
	}

	// A parameter changed after signing.
	p := signed(http.MethodPost, akCred, "DescribeInstances", describe)
	p.Set("RegionId", "cn-shanghai")
	wantError(t, send(t, srv, http.MethodPost, p), 400, "SignatureDoesNotMatch")

	// Signed for GET, sent by POST: the method is part of what is signed.
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodGet, akCred, "DescribeInstances", describe)), 400, "SignatureDoesNotMatch")

	unknown := Credential{AccessKeyID: "LTAInobody", AccessKeySecret: "x"}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, unknown, "DescribeInstances", describe)), 404, "InvalidAccessKeyId.NotFound")

	// The same nonce twice.
	p = signed(http.MethodPost, akCred, "DescribeInstances", describe)
	if a := send(t, srv, http.MethodPost, p); a.status != 200 {
		t.Fatalf("first use of a nonce: %s", a.raw)
	}
	wantError(t, send(t, srv, http.MethodPost, p), 400, "SignatureNonceUsed")

	// A Timestamp 20 minutes old, and one that is not ISO 8601.
	old := url.Values{"RegionId": {"cn-hangzhou"}, "Timestamp": {time.Now().Add(-20 * time.Minute).UTC().Format("2006-01-02T15:04:05Z")}}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", old)), 400, "InvalidTimeStamp.Expired")
	bad := url.Values{"RegionId": {"cn-hangzhou"}, "Timestamp": {"yesterday"}}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", bad)), 400, "InvalidTimeStamp.Format")

	p = signed(http.MethodPost, akCred, "DescribeInstances", describe)
	p.Del("SignatureNonce")
	wantError(t, send(t, srv, http.MethodPost, p), 400, "MissingParameter")

	v := url.Values{"RegionId": {"cn-hangzhou"}, "Version": {"2016-01-01"}}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", v)), 400, "InvalidVersion")
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StopInstances", describe)), 404, "InvalidAction.NotFound")
}

func TestEmuSecurityToken(t *testing.T) {
	srv := newTestServer(t, Options{})
	describe := url.Values{"RegionId": {"cn-hangzhou"}}
	post := func(c Credential) answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, c, "DescribeInstances", describe))
	}
	if a := post(stsCred); a.status != 200 {
		t.Fatalf("STS credential with its token: %s", a.raw)
	}
	noToken := stsCred
	noToken.SecurityToken = ""
	wantError(t, post(noToken), 400, "MissingSecurityToken")

	garbled := stsCred
	garbled.SecurityToken = "garbage"
	wantError(t, post(garbled), 400, "InvalidSecurityToken.Malformed")

	swapped := stsCred
	swapped.SecurityToken = stsCred2.SecurityToken
	wantError(t, post(swapped), 400, "InvalidSecurityToken.MismatchWithAccessKey")

	expired := stsCred
	expired.Expired = true
	srv.AddCredential(expired)
	wantError(t, post(stsCred), 403, "InvalidSecurityToken.Expired")
}

func TestEmuAllTogetherIsAllOrNothing(t *testing.T) {
	srv := newTestServer(t, Options{StartDelay: -1})
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("", false, "i-stopped01", "i-running01")))
	wantError(t, a, 403, "IncorrectInstanceStatus")
	if s := status(t, srv, "i-stopped01"); s != Stopped {
		t.Fatalf("a refused AllTogether call started an instance: %s", s)
	}

	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("AllTogether", false, "i-stopped01", "i-stopped02")))
	if a.status != 200 {
		t.Fatalf("AllTogether of two stopped instances: %s", a.raw)
	}
	got := instanceResponsesOf(t, a)
	if len(got) != 2 || got[0]["Code"] != "200" || got[0]["Message"] != "success" || got[0]["PreviousStatus"] != Stopped || got[0]["CurrentStatus"] != Starting {
		t.Fatalf("InstanceResponses = %v", got)
	}
	if s := status(t, srv, "i-stopped02"); s != Starting {
		t.Fatalf("status after start = %s, want Starting", s)
	}

	for id, code := range map[string]string{
		"i-locked01":  "InstanceLockedForSecurity",
		"i-arrears01": "InstanceExpiredOrInArrears",
		"i-nostock01": "OperationDenied.NoStock",
	} {
		wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("AllTogether", false, id))), 403, code)
	}
}

func instanceResponsesOf(t *testing.T, a answer) []map[string]any {
	t.Helper()
	var out struct {
		InstanceResponses struct{ InstanceResponse []map[string]any }
	}
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatal(err)
	}
	return out.InstanceResponses.InstanceResponse
}

func TestEmuSuccessFirst(t *testing.T) {
	srv := newTestServer(t, Options{StartDelay: 20 * time.Millisecond})
	ids := []string{"i-stopped01", "i-running01", "i-locked01", "i-notready01"}
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, ids...)))
	if a.status != 200 {
		t.Fatalf("SuccessFirst: %s", a.raw)
	}
	want := map[string]string{"i-stopped01": "200", "i-running01": "IncorrectInstanceStatus", "i-locked01": "InstanceLockedForSecurity", "i-notready01": "InstanceNotReady"}
	for _, r := range instanceResponsesOf(t, a) {
		if r["Code"] != want[r["InstanceId"].(string)] {
			t.Errorf("%s: Code %v, want %s", r["InstanceId"], r["Code"], want[r["InstanceId"].(string)])
		}
	}
	if s := status(t, srv, "i-stopped01"); s != Starting {
		t.Fatalf("started instance is %s, want Starting", s)
	}
	time.Sleep(30 * time.Millisecond)
	if s := status(t, srv, "i-stopped01"); s != Running {
		t.Fatalf("after StartDelay the instance is %s, want Running", s)
	}
	// InstanceNotReady was limited to one attempt: the second one starts.
	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-notready01")))
	if r := instanceResponsesOf(t, a); len(r) != 1 || r[0]["Code"] != "200" {
		t.Fatalf("second attempt after a transient StartError: %s", a.raw)
	}
}

func TestEmuUnknownAndMalformedIDs(t *testing.T) {
	srv := newTestServer(t, Options{})
	for _, batch := range []string{"SuccessFirst", "AllTogether"} {
		a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams(batch, false, "i-stopped01", "i-doesnotexist")))
		wantError(t, a, 404, "InvalidInstanceIds.NotFound")
		// An instance of another region is unknown in this one.
		a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams(batch, false, "i-shanghai01")))
		wantError(t, a, 404, "InvalidInstanceIds.NotFound")
		a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams(batch, false, "i-stopped01", "I-NOT_AN_ID")))
		wantError(t, a, 403, "Abs.InvalidInstanceIds.MalFormed")
	}
	if s := status(t, srv, "i-stopped01"); s != Stopped {
		t.Fatalf("a refused call started an instance: %s", s)
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = "i-many" + strconv.Itoa(i)
	}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, ids...))), 403, "InvalidParameter.TooManyInstanceIds")
	p := startParams("SuccessFirst", false, "i-stopped01")
	p.Del("RegionId")
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", p)), 400, "MissingParameter")

	perInstance := newTestServer(t, Options{UnknownIDsPerInstance: true})
	a := send(t, perInstance, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01", "i-doesnotexist")))
	r := instanceResponsesOf(t, a)
	if a.status != 200 || len(r) != 2 || r[0]["Code"] != "200" || r[1]["Code"] != "InvalidInstanceId.NotFound" {
		t.Fatalf("UnknownIDsPerInstance: %s", a.raw)
	}
}

func TestEmuDryRun(t *testing.T) {
	srv := newTestServer(t, Options{})
	start := func(batch string, ids ...string) answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams(batch, true, ids...)))
	}
	a := start("AllTogether", "i-stopped01", "i-stopped02")
	wantError(t, a, 400, "DryRunOperation")
	if a.body["Message"] != "Request validation has been passed with DryRun flag set." {
		t.Fatalf("DryRunOperation message: %s", a.raw)
	}
	wantError(t, start("AllTogether", "i-stopped01", "i-locked01"), 403, "InstanceLockedForSecurity")
	wantError(t, start("AllTogether", "i-running01"), 403, "IncorrectInstanceStatus")
	// Documented: SuccessFirst dry runs pass whatever the instances are.
	wantError(t, start("SuccessFirst", "i-running01", "i-locked01"), 400, "DryRunOperation")
	if s := status(t, srv, "i-stopped01"); s != Stopped {
		t.Fatalf("a dry run changed an instance: %s", s)
	}

	legacy := newTestServer(t, Options{DryRunPassCode: "DRYRUN.SUCCESS"})
	a = send(t, legacy, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("AllTogether", true, "i-stopped01")))
	wantError(t, a, 400, "DRYRUN.SUCCESS")
}

func TestEmuTransitions(t *testing.T) {
	srv := newTestServer(t, Options{SettleDelay: 20 * time.Millisecond})
	if err := srv.SetInstance(Instance{InstanceID: "i-stopping01", RegionID: "cn-hangzhou", Status: Stopping}); err != nil {
		t.Fatal(err)
	}
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopping01")))
	if r := instanceResponsesOf(t, a); r[0]["Code"] != "IncorrectInstanceStatus" || r[0]["CurrentStatus"] != Stopping {
		t.Fatalf("start of a Stopping instance: %s", a.raw)
	}
	time.Sleep(30 * time.Millisecond)
	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopping01")))
	if r := instanceResponsesOf(t, a); r[0]["Code"] != "200" || r[0]["PreviousStatus"] != Stopped {
		t.Fatalf("start once it has stopped: %s", a.raw)
	}
	if err := srv.SetInstance(Instance{InstanceID: "bad", RegionID: "cn-hangzhou", Status: Stopped}); err == nil {
		t.Fatal("SetInstance accepted a malformed ID")
	}
}

func TestEmuDescribeInstances(t *testing.T) {
	srv := newTestServer(t, Options{})
	p := url.Values{"RegionId": {"cn-hangzhou"}, "InstanceIds": {`["i-stopped01","i-locked01","i-running01","i-unknown99","i-shanghai01"]`}, "PageSize": {"100"}}
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, stsCred, "DescribeInstances", p))
	if a.status != 200 {
		t.Fatalf("DescribeInstances: %s", a.raw)
	}
	var out struct {
		TotalCount, PageSize, PageNumber int
		Instances                        struct {
			Instance []struct {
				InstanceID          string `json:"InstanceId"`
				RegionID            string `json:"RegionId"`
				Status, StoppedMode string
				OperationLocks      struct{ LockReason []struct{ LockReason string } }
				Tags                struct {
					Tag []struct{ TagKey, TagValue string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 3 || out.PageSize != 100 || out.PageNumber != 1 || len(out.Instances.Instance) != 3 {
		t.Fatalf("want the 3 known instances of the region: %s", a.raw)
	}
	got := map[string]int{}
	for i, in := range out.Instances.Instance {
		got[in.InstanceID] = i
	}
	locked := out.Instances.Instance[got["i-locked01"]]
	if len(locked.OperationLocks.LockReason) != 1 || locked.OperationLocks.LockReason[0].LockReason != "security" {
		t.Fatalf("OperationLocks of the locked instance: %s", a.raw)
	}
	stopped := out.Instances.Instance[got["i-stopped01"]]
	if stopped.Status != Stopped || stopped.StoppedMode != "KeepCharging" || len(stopped.Tags.Tag) != 1 || stopped.Tags.Tag[0].TagKey != "env" || stopped.Tags.Tag[0].TagValue != "prod" {
		t.Fatalf("stopped instance: %+v", stopped)
	}
	if r := out.Instances.Instance[got["i-running01"]]; r.Status != Running || r.StoppedMode != "Not-applicable" {
		t.Fatalf("running instance: %+v", r)
	}

	// Paging and tag filters.
	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}, "PageSize": {"2"}, "PageNumber": {"2"}}))
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 7 || len(out.Instances.Instance) != 2 {
		t.Fatalf("page 2 of size 2 of 7 instances: %s", a.raw)
	}
	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}, "Tag.1.Key": {"env"}, "Tag.1.Value": {"dev"}}))
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 1 || out.Instances.Instance[0].InstanceID != "i-running01" {
		t.Fatalf("tag filter env=dev: %s", a.raw)
	}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}, "InstanceIds": {"i-stopped01"}})), 400, "InvalidInstanceIds.Malformed")
}

func TestEmuXMLFormat(t *testing.T) {
	srv := newTestServer(t, Options{})
	p := startParams("SuccessFirst", false, "i-stopped01")
	p.Set("Format", "XML")
	a := send(t, srv, http.MethodGet, signed(http.MethodGet, akCred, "StartInstances", p))
	var out struct {
		XMLName           xml.Name `xml:"StartInstancesResponse"`
		InstanceResponses struct {
			InstanceResponse []struct {
				InstanceID string `xml:"InstanceId"`
				Code       string
			}
		}
	}
	if err := xml.Unmarshal([]byte(a.raw), &out); err != nil || a.status != 200 {
		t.Fatalf("XML answer: %v: %s", err, a.raw)
	}
	if len(out.InstanceResponses.InstanceResponse) != 1 || out.InstanceResponses.InstanceResponse[0].Code != "200" {
		t.Fatalf("XML answer: %s", a.raw)
	}
}

func TestEmuFaults(t *testing.T) {
	srv := newTestServer(t, Options{})
	describe := func() answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}}))
	}
	srv.SetFaults(Faults{Throttle: 1, Unavailable: 1, Internal: 1})
	wantError(t, describe(), 400, "Throttling.User")
	wantError(t, describe(), 503, "ServiceUnavailable")
	wantError(t, describe(), 500, "InternalError")
	if a := describe(); a.status != 200 {
		t.Fatalf("after the faults are used up: %s", a.raw)
	}

	// Faults limited to one action leave the others alone.
	srv.SetFaults(Faults{Action: "StartInstances", Throttle: 1})
	if a := describe(); a.status != 200 {
		t.Fatalf("a StartInstances fault answered DescribeInstances: %s", a.raw)
	}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01"))), 400, "Throttling.User")
	if s := status(t, srv, "i-stopped01"); s != Stopped {
		t.Fatalf("a throttled call started an instance: %s", s)
	}

	srv.SetFaults(Faults{Reset: 1})
	p := signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/", strings.NewReader(p.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a reset connection answered %d", resp.StatusCode)
	}
	if a := describe(); a.status != 200 {
		t.Fatalf("after the reset: %s", a.raw)
	}

	srv.SetFaults(Faults{Latency: 50 * time.Millisecond})
	begin := time.Now()
	describe()
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Fatalf("latency fault: answered in %v", d)
	}

	calls := srv.Calls()
	faults := map[string]int{}
	for _, c := range calls {
		faults[c.Fault]++
	}
	if faults["throttle"] != 2 || faults["unavailable"] != 1 || faults["internal"] != 1 || faults["reset"] != 1 {
		t.Fatalf("recorded faults = %v", faults)
	}
}

func TestEmuRecordsCallsAndConnections(t *testing.T) {
	srv := newTestServer(t, Options{})
	p := startParams("SuccessFirst", true, "i-stopped01", "i-stopped02")
	for i := 0; i < 3; i++ {
		send(t, srv, http.MethodPost, signed(http.MethodPost, stsCred, "StartInstances", p))
	}
	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls recorded, want 3", len(calls))
	}
	c := calls[0]
	if c.Action != "StartInstances" || c.RegionID != "cn-hangzhou" || c.BatchOptimization != "SuccessFirst" || !c.DryRun ||
		c.AccessKeyID != stsCred.AccessKeyID || !c.HasSecurityToken || strings.Join(c.InstanceIDs, ",") != "i-stopped01,i-stopped02" ||
		c.HTTPStatus != 400 || c.Code != "DryRunOperation" {
		t.Fatalf("recorded call = %+v", c)
	}
	// http.DefaultClient keeps connections alive: three sequential calls,
	// one connection.
	if st := srv.Stats(); st.Requests != 3 || st.Connections != 1 {
		t.Fatalf("stats = %+v, want 3 requests over 1 connection", st)
	}
	srv.ResetCalls()
	if len(srv.Calls()) != 0 {
		t.Fatal("ResetCalls kept calls")
	}
}

func TestEmuParseFleet(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": `{"instances":[{"instanceId":"i-abcdef01","regionId":"cn-hangzhou","status":"Stopped","startEror":"X"}]}`,
		"bad status":    `{"instances":[{"instanceId":"i-abcdef01","regionId":"cn-hangzhou","status":"Sleeping"}]}`,
		"bad id":        `{"instances":[{"instanceId":"abcdef01","regionId":"cn-hangzhou","status":"Stopped"}]}`,
		"duplicate":     `{"instances":[{"instanceId":"i-abcdef01","regionId":"cn-hangzhou","status":"Stopped"},{"instanceId":"i-abcdef01","regionId":"cn-hangzhou","status":"Running"}]}`,
		"not json":      `instances: []`,
	} {
		if _, err := ParseFleet([]byte(doc)); err == nil {
			t.Errorf("%s: ParseFleet accepted %s", name, doc)
		}
	}
	f, err := ParseFleet([]byte(testFleet))
	if err != nil || len(f.Instances) != 8 || f.Instances[5].StartError != "OperationDenied.NoStock" {
		t.Fatalf("ParseFleet(testFleet) = %+v, %v", f, err)
	}
	if _, err := LoadFleet("does-not-exist.json"); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadFleet of a missing file: %v", err)
	}
}

// DescribeInstances pages by MaxResults and NextToken as ECS does: a page is
// at most 100, every instance comes once over the pages, the last page has no
// NextToken, and a token the server never gave is refused.
func TestEmuDescribeInstancesByToken(t *testing.T) {
	var fleet Fleet
	for i := range 250 {
		st := Stopped
		if i%10 == 0 {
			st = Running
		}
		fleet.Instances = append(fleet.Instances, Instance{InstanceID: fmt.Sprintf("i-page%06d", i), RegionID: "cn-hangzhou", Status: st,
			Tags: map[string]string{"team": "big", "n": strconv.Itoa(i % 2)}})
	}
	fleet.Instances = append(fleet.Instances, Instance{InstanceID: "i-other0001", RegionID: "cn-hangzhou", Status: Stopped, Tags: map[string]string{"team": "small"}})
	srv := newTestServer(t, Options{Fleet: fleet})
	type page struct {
		NextToken string
		Instances struct {
			Instance []struct {
				InstanceID string `json:"InstanceId"`
			}
		}
	}
	read := func(p url.Values) (page, answer) {
		a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", p))
		var out page
		if a.status == 200 {
			if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
				t.Fatal(err)
			}
		}
		return out, a
	}
	seen := map[string]bool{}
	token, pages := "", 0
	for {
		p := url.Values{"RegionId": {"cn-hangzhou"}, "Tag.1.Key": {"team"}, "Tag.1.Value": {"big"}, "MaxResults": {"100"}}
		if token != "" {
			p.Set("NextToken", token)
		}
		out, a := read(p)
		if a.status != 200 || len(out.Instances.Instance) > 100 {
			t.Fatalf("page %d: %d instances: %.300s", pages, len(out.Instances.Instance), a.raw)
		}
		pages++
		for _, in := range out.Instances.Instance {
			if seen[in.InstanceID] || !strings.HasPrefix(in.InstanceID, "i-page") {
				t.Fatalf("page %d: %s twice or not tagged team=big", pages, in.InstanceID)
			}
			seen[in.InstanceID] = true
		}
		if token = out.NextToken; token == "" {
			break
		}
	}
	if pages != 3 || len(seen) != 250 {
		t.Fatalf("%d pages, %d instances; want 3 pages of the 250 tagged instances", pages, len(seen))
	}
	// Two pairs: both must hold; a key without value matches any value.
	out, _ := read(url.Values{"RegionId": {"cn-hangzhou"}, "Tag.1.Key": {"team"}, "Tag.2.Key": {"n"}, "Tag.2.Value": {"1"}, "MaxResults": {"100"}})
	if len(out.Instances.Instance) != 100 || out.NextToken == "" {
		t.Fatalf("team=* and n=1: %d instances, next %q; want a first page of 100 of 125", len(out.Instances.Instance), out.NextToken)
	}
	srv.ResetCalls()
	_, a := read(url.Values{"RegionId": {"cn-hangzhou"}, "Tag.1.Key": {"team"}, "MaxResults": {"100"}, "NextToken": {"made-up"}})
	wantError(t, a, 400, "InvalidParameter.NextToken")
	if c := srv.Calls(); len(c) != 1 || len(c[0].Tags) != 1 || c[0].Tags[0] != "team" || c[0].NextToken != "made-up" || c[0].MaxResults != "100" {
		t.Fatalf("recorded call: %+v", c)
	}
	_, a = read(url.Values{"RegionId": {"cn-hangzhou"}, "MaxResults": {"101"}})
	wantError(t, a, 400, "InvalidParameter")
	_, a = read(url.Values{"RegionId": {"cn-hangzhou"}, "MaxResults": {"10"}, "PageNumber": {"2"}})
	wantError(t, a, 400, "InvalidParameter")
}

// A started instance is Starting until Options.StartDelay has passed, then
// Running: what a caller that waits sees.
func TestEmuStartDelay(t *testing.T) {
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	srv := newTestServer(t, Options{StartDelay: 3 * time.Second, Now: now})
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01")))
	if a.status != 200 || status(t, srv, "i-stopped01") != Starting {
		t.Fatalf("after the start: %s, %s", status(t, srv, "i-stopped01"), a.raw)
	}
	mu.Lock()
	clock = clock.Add(2999 * time.Millisecond)
	mu.Unlock()
	if s := status(t, srv, "i-stopped01"); s != Starting {
		t.Fatalf("before StartDelay: %s", s)
	}
	mu.Lock()
	clock = clock.Add(time.Millisecond)
	mu.Unlock()
	if s := status(t, srv, "i-stopped01"); s != Running {
		t.Fatalf("at StartDelay: %s", s)
	}
}

// A flow limit throttles the calls past its rate as they arrive, and a
// throttled call takes nothing from the bucket nor starts anything.
func TestEmuRateLimit(t *testing.T) {
	srv := newTestServer(t, Options{})
	start := func() answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01")))
	}
	// One call in 100 s refills the bucket: the burst of 3 is all there is.
	srv.SetFaults(Faults{Action: "StartInstances", Rate: 0.01, Burst: 3})
	ok, throttled := 0, 0
	for range 10 {
		switch a := start(); a.status {
		case 200:
			ok++
		default:
			wantError(t, a, 400, "Throttling.User")
			throttled++
		}
	}
	if ok != 3 || throttled != 7 {
		t.Fatalf("rate 0.01/s, burst 3: %d accepted, %d throttled; want 3 and 7", ok, throttled)
	}
	if a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}})); a.status != 200 {
		t.Fatalf("a StartInstances rate throttled DescribeInstances: %s", a.raw)
	}
	rated := 0
	for _, c := range srv.Calls() {
		if c.Fault == "rate" {
			rated++
			if c.Code != "Throttling.User" || c.HTTPStatus != 400 {
				t.Errorf("a call over the rate is recorded as %d %s", c.HTTPStatus, c.Code)
			}
		}
	}
	if rated != 7 {
		t.Fatalf("%d calls recorded as over the rate, want 7", rated)
	}

	// Calls spaced wider than the rate all pass: waiting only adds tokens.
	srv.SetFaults(Faults{Rate: 200})
	for i := range 5 {
		time.Sleep(10 * time.Millisecond)
		if a := start(); a.status != 200 {
			t.Fatalf("call %d, 10 ms after the one before, at 200 calls/s: %s", i, a.raw)
		}
	}
}

// DescribeInstanceStatus, the call a wait polls with (DESIGN §7): signed like
// the others, the named instances of the caller's region only, pages of at
// most 50 through PageNumber.
func TestEmuDescribeInstanceStatus(t *testing.T) {
	srv := newTestServer(t, Options{})
	p := url.Values{"RegionId": {"cn-hangzhou"}, "InstanceId.1": {"i-stopped01"}, "InstanceId.2": {"i-running01"},
		"InstanceId.3": {"i-unknown99"}, "InstanceId.4": {"i-shanghai01"}, "PageSize": {"50"}}
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, stsCred, "DescribeInstanceStatus", p))
	var out struct {
		TotalCount, PageSize, PageNumber int
		InstanceStatuses                 struct {
			InstanceStatus []struct {
				InstanceID string `json:"InstanceId"`
				Status     string
			}
		}
	}
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil || a.status != 200 {
		t.Fatalf("DescribeInstanceStatus: %d %s", a.status, a.raw)
	}
	st := out.InstanceStatuses.InstanceStatus
	if out.TotalCount != 2 || out.PageSize != 50 || out.PageNumber != 1 || len(st) != 2 ||
		st[0].InstanceID != "i-running01" || st[0].Status != Running || st[1].InstanceID != "i-stopped01" || st[1].Status != Stopped {
		t.Fatalf("want the 2 known instances of the region, by ID: %s", a.raw)
	}
	a = send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstanceStatus", url.Values{"RegionId": {"cn-hangzhou"}, "PageSize": {"2"}, "PageNumber": {"4"}}))
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil || out.TotalCount != 7 || len(out.InstanceStatuses.InstanceStatus) != 1 {
		t.Fatalf("page 4 of size 2 of 7 instances: %s", a.raw)
	}
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstanceStatus", url.Values{"RegionId": {"cn-hangzhou"}, "PageSize": {"51"}})), 400, "InvalidParameter")
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstanceStatus", url.Values{})), 400, "MissingParameter")
	wrong := akCred
	wrong.AccessKeySecret = "not-the-secret"
	wantError(t, send(t, srv, http.MethodPost, signed(http.MethodPost, wrong, "DescribeInstanceStatus", p)), 400, "SignatureDoesNotMatch")
	calls := srv.Calls()
	if c := calls[0]; c.Action != "DescribeInstanceStatus" || len(c.InstanceIDs) != 4 || c.PageSize != "50" {
		t.Fatalf("recorded call: %+v", c)
	}
}

// The EndlessPages fault: DescribeInstances paged by NextToken names one more
// page after every page, empty once the instances are read.
func TestEmuEndlessPages(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.SetFaults(Faults{EndlessPages: true})
	p := url.Values{"RegionId": {"cn-hangzhou"}, "MaxResults": {"100"}}
	for page := 1; page <= 5; page++ {
		a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", p))
		var out struct {
			NextToken string
			Instances struct{ Instance []struct{ InstanceID string } }
		}
		if err := json.Unmarshal([]byte(a.raw), &out); err != nil || a.status != 200 {
			t.Fatalf("page %d: %d %s", page, a.status, a.raw)
		}
		if want := map[bool]int{true: 7, false: 0}[page == 1]; len(out.Instances.Instance) != want || out.NextToken == "" {
			t.Fatalf("page %d: %d instances, NextToken %q; want %d and another page", page, len(out.Instances.Instance), out.NextToken, want)
		}
		p.Set("NextToken", out.NextToken)
	}
	srv.SetFaults(Faults{})
	a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", p))
	if a.status != 200 || a.body["NextToken"] != "" {
		t.Fatalf("without the fault the pages end: %s", a.raw)
	}
}

// Faults.PerMinute: ECS's quota of a minute, per API, region and account;
// past it every call of that scope is throttled until the next window.
func TestEmuPerMinuteQuota(t *testing.T) {
	srv := newTestServer(t, Options{})
	const minute = 300 * time.Millisecond
	srv.SetFaults(Faults{PerMinute: 2, Minute: minute})
	begin := time.Now()
	describe := func(c Credential, region string) answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, c, "DescribeInstances", url.Values{"RegionId": {region}}))
	}
	status := func(c Credential, region string) answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, c, "DescribeInstanceStatus", url.Values{"RegionId": {region}}))
	}
	for i := range 2 {
		if a := describe(akCred, "cn-hangzhou"); a.status != 200 {
			t.Fatalf("call %d within the quota: %s", i, a.raw)
		}
	}
	wantError(t, describe(akCred, "cn-hangzhou"), 400, "Throttling.User")
	wantError(t, describe(akCred, "cn-hangzhou"), 400, "Throttling.User")
	// Another API, another region: quotas of their own.
	if a := status(akCred, "cn-hangzhou"); a.status != 200 {
		t.Fatalf("another API: %s", a.raw)
	}
	if a := describe(akCred, "cn-shanghai"); a.status != 200 {
		t.Fatalf("another region: %s", a.raw)
	}
	if time.Since(begin) > minute/2 {
		t.Skip("the machine is too slow for a window of", minute)
	}
	time.Sleep(time.Until(begin.Add(minute + 20*time.Millisecond)))
	if a := describe(akCred, "cn-hangzhou"); a.status != 200 {
		t.Fatalf("the next window: %s", a.raw)
	}
	var minuteFaults int
	for _, c := range srv.Calls() {
		if c.Fault == "minute" {
			minuteFaults++
		}
	}
	if minuteFaults != 2 {
		t.Fatalf("%d calls over the quota recorded, want 2", minuteFaults)
	}
}
