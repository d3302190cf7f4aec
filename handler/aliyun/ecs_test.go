package aliyun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

var (
	sdkSTS = ecsapi.Credentials{AccessKeyID: "STS.NUgYrLnoC37mZZCNnAbez2sdk", AccessKeySecret: "7pT4x9vBqR2sLmN8kZ1wY6cE3hJ5gF0d",
		SecurityToken: "CAIS+AF1q6Ft5B2yfSjIr5bkJ/zs3rZn0Y2kdEDMhm4eSt1ahqzYmjz2IHFPenVoBe0ZsvUxmW5Y6P8flrJ0QoRYRUbJdMcq8Y5Z/Sqqvq2V4g=="}
	sdkAK = ecsapi.Credentials{AccessKeyID: "LTAI5tPlainKeyForTests", AccessKeySecret: "plainSecretOfTheTestAccount42"}
)

// sdkFleet: instance i-sdkNN for NN in 00..29 are Stopped in cn-hangzhou,
// plus a few in other states.
func sdkFleet() ecsemu.Fleet {
	var f ecsemu.Fleet
	for i := 0; i < 30; i++ {
		f.Instances = append(f.Instances, ecsemu.Instance{InstanceID: fmt.Sprintf("i-sdk%02d", i), RegionID: "cn-hangzhou", Status: ecsemu.Stopped})
	}
	f.Instances = append(f.Instances,
		ecsemu.Instance{InstanceID: "i-sdkrunning", RegionID: "cn-hangzhou", Status: ecsemu.Running, Tags: map[string]string{"env": "prod", "team": "ops"}},
		ecsemu.Instance{InstanceID: "i-sdklocked", RegionID: "cn-hangzhou", Status: ecsemu.Stopped, StoppedMode: "StopCharging", LockReasons: []string{"security"}},
		ecsemu.Instance{InstanceID: "i-sdkbroke", RegionID: "cn-hangzhou", Status: ecsemu.Stopped, StartError: "InsufficientBalance"},
	)
	return f
}

func newSDKEmu(t *testing.T, opts ecsemu.Options) *ecsemu.Server {
	t.Helper()
	if opts.Fleet.Instances == nil {
		opts.Fleet = sdkFleet()
	}
	opts.Credentials = append(opts.Credentials,
		ecsemu.Credential{AccessKeyID: sdkSTS.AccessKeyID, AccessKeySecret: sdkSTS.AccessKeySecret, SecurityToken: sdkSTS.SecurityToken},
		ecsemu.Credential{AccessKeyID: sdkAK.AccessKeyID, AccessKeySecret: sdkAK.AccessKeySecret},
	)
	srv := ecsemu.New(opts)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newSDK(t *testing.T, o Options) *ECS {
	t.Helper()
	e, err := NewECS(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// assertNoSecrets fails if text could let a reader act with creds.
func assertNoSecrets(t *testing.T, text string, creds ecsapi.Credentials) {
	t.Helper()
	for _, leak := range []string{creds.AccessKeySecret, creds.SecurityToken, "Signature=", "SecurityToken=", "SecurityToken%3D", "string to sign"} {
		if leak != "" && strings.Contains(text, leak) {
			t.Fatalf("error text leaks %q: %s", leak, text)
		}
	}
	// A prefix of the token, as a truncated copy would show.
	if creds.SecurityToken != "" && strings.Contains(text, creds.SecurityToken[:12]) {
		t.Fatalf("error text leaks part of the token: %s", text)
	}
}

func wantAPIError(t *testing.T, err error, status int, code string) *ecsapi.APIError {
	t.Helper()
	var api *ecsapi.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error = %T %v, want *APIError %s", err, err, code)
	}
	if api.HTTPStatus != status || api.Code != code || api.RequestID == "" || api.Message == "" {
		t.Fatalf("APIError = %+v, want %d %s with a RequestId and a Message", api, status, code)
	}
	return api
}

func TestSDKStartWithSTSAndAccessKey(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	out, err := e.StartInstances(context.Background(), sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"})
	if err != nil {
		t.Fatalf("StartInstances with STS credentials: %v", err)
	}
	if out.RequestID == "" || len(out.Responses) != 1 {
		t.Fatalf("output = %+v", out)
	}
	if r := out.Responses[0]; r != (ecsapi.InstanceResponse{InstanceID: "i-sdk00", Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"}) {
		t.Fatalf("response = %+v", r)
	}
	if _, err := e.StartInstances(context.Background(), sdkAK, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk01"}, BatchOptimization: "SuccessFirst"}); err != nil {
		t.Fatalf("StartInstances with a plain AccessKey: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if c := calls[0]; c.AccessKeyID != sdkSTS.AccessKeyID || !c.HasSecurityToken || c.Action != "StartInstances" || c.BatchOptimization != "SuccessFirst" || c.DryRun || c.RegionID != "cn-hangzhou" {
		t.Fatalf("STS call = %+v", c)
	}
	if c := calls[1]; c.AccessKeyID != sdkAK.AccessKeyID || c.HasSecurityToken {
		t.Fatalf("AccessKey call = %+v", c)
	}
}

func TestSDKRefusedCredentials(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	in := ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"}

	wrongSecret := sdkSTS
	wrongSecret.AccessKeySecret = "anotherSecretThatIsWrong000"
	_, err := e.StartInstances(context.Background(), wrongSecret, in)
	api := wantAPIError(t, err, 400, "SignatureDoesNotMatch")
	// ECS's message ends with its StringToSign, which holds the token.
	assertNoSecrets(t, api.Error(), wrongSecret)
	assertNoSecrets(t, api.Error(), sdkSTS)
	if !strings.HasPrefix(api.Message, "Specified signature is not matched") {
		t.Fatalf("message lost its meaning: %q", api.Message)
	}

	wrongToken := sdkSTS
	wrongToken.SecurityToken = "CAISnotTheRightTokenAtAll0123456789"
	_, err = e.StartInstances(context.Background(), wrongToken, in)
	assertNoSecrets(t, wantAPIError(t, err, 400, "InvalidSecurityToken.Malformed").Error(), wrongToken)

	unknown := ecsapi.Credentials{AccessKeyID: "LTAI5tNobodyKnowsThisKey", AccessKeySecret: "whatever-secret-value"}
	_, err = e.StartInstances(context.Background(), unknown, in)
	_ = wantAPIError(t, err, 404, "InvalidAccessKeyId.NotFound")

	srv.AddCredential(ecsemu.Credential{AccessKeyID: sdkSTS.AccessKeyID, AccessKeySecret: sdkSTS.AccessKeySecret, SecurityToken: sdkSTS.SecurityToken, Expired: true})
	_, err = e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", []string{"i-sdk00"})
	_ = wantAPIError(t, err, 403, "InvalidSecurityToken.Expired")

	if inst, _ := srv.Instance("i-sdk00"); inst.Status != ecsemu.Stopped {
		t.Fatalf("a refused call started an instance: %s", inst.Status)
	}
}

func TestSDKSuccessFirstAndAllTogether(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{StartDelay: -1})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	ctx := context.Background()
	ids := []string{"i-sdk00", "i-sdkrunning", "i-sdklocked", "i-sdkbroke"}

	_, err := e.StartInstances(ctx, sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: ids, BatchOptimization: "AllTogether"})
	_ = wantAPIError(t, err, 403, "IncorrectInstanceStatus")
	if inst, _ := srv.Instance("i-sdk00"); inst.Status != ecsemu.Stopped {
		t.Fatalf("AllTogether refused, yet i-sdk00 is %s", inst.Status)
	}

	out, err := e.StartInstances(ctx, sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: ids, BatchOptimization: "SuccessFirst"})
	if err != nil {
		t.Fatalf("SuccessFirst: %v", err)
	}
	want := map[string][3]string{
		"i-sdk00":      {"200", "Stopped", "Starting"},
		"i-sdkrunning": {"IncorrectInstanceStatus", "Running", "Running"},
		"i-sdklocked":  {"InstanceLockedForSecurity", "Stopped", "Stopped"},
		"i-sdkbroke":   {"InsufficientBalance", "Stopped", "Stopped"},
	}
	if len(out.Responses) != len(want) {
		t.Fatalf("responses = %+v", out.Responses)
	}
	for _, r := range out.Responses {
		if w := want[r.InstanceID]; [3]string{r.Code, r.PreviousStatus, r.CurrentStatus} != w || r.Message == "" {
			t.Errorf("%s: %+v, want %v", r.InstanceID, r, w)
		}
	}

	// One unknown ID refuses a SuccessFirst call as a whole (DESIGN §7).
	_, err = e.StartInstances(ctx, sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk02", "i-sdkmissing"}, BatchOptimization: "SuccessFirst"})
	_ = wantAPIError(t, err, 404, "InvalidInstanceIds.NotFound")
}

func TestSDKDryRunIsAnAPIError(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	_, err := e.StartInstances(context.Background(), sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00", "i-sdk01"}, BatchOptimization: "AllTogether", DryRun: true})
	_ = wantAPIError(t, err, 400, "DryRunOperation")
	if c := srv.Calls(); len(c) != 1 || !c[0].DryRun {
		t.Fatalf("calls = %+v, want one with DryRun", c)
	}
	if inst, _ := srv.Instance("i-sdk00"); inst.Status != ecsemu.Stopped {
		t.Fatalf("a dry run started an instance: %s", inst.Status)
	}
}

func TestSDKServerFaultsAreNotRetriedBySDK(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	in := ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"}

	srv.SetFaults(ecsemu.Faults{Throttle: 1})
	_, err := e.StartInstances(context.Background(), sdkSTS, in)
	_ = wantAPIError(t, err, 400, "Throttling.User")

	srv.SetFaults(ecsemu.Faults{Unavailable: 5})
	_, err = e.StartInstances(context.Background(), sdkSTS, in)
	_ = wantAPIError(t, err, 503, "ServiceUnavailable")
	// The SDK's AutoRetry would have sent the 503 call again at once.
	if n := len(srv.Calls()); n != 2 {
		t.Fatalf("%d calls for 2 StartInstances: the SDK retried by itself", n)
	}
}

func wantNetworkError(t *testing.T, err error, creds ecsapi.Credentials) *ecsapi.NetworkError {
	t.Helper()
	var ne *ecsapi.NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("error = %T %v, want *NetworkError", err, err)
	}
	if ne.Op == "" || ne.Host == "" || ne.Err == nil {
		t.Fatalf("NetworkError = %+v", ne)
	}
	assertNoSecrets(t, ne.Error(), creds)
	return ne
}

func TestSDKNetworkErrors(t *testing.T) {
	in := ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"}

	t.Run("refused", func(t *testing.T) {
		ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		e := newSDK(t, Options{Endpoint: "http://" + addr})
		_, err = e.StartInstances(context.Background(), sdkSTS, in)
		ne := wantNetworkError(t, err, sdkSTS)
		if ne.Op != "StartInstances" || ne.Host != addr {
			t.Fatalf("NetworkError = %+v, want op StartInstances, host %s", ne, addr)
		}
		var op *net.OpError
		if !errors.As(err, &op) {
			t.Fatalf("the cause %T should stay a *net.OpError", ne.Err)
		}
	})

	t.Run("reset", func(t *testing.T) {
		srv := newSDKEmu(t, ecsemu.Options{})
		e := newSDK(t, Options{Endpoint: srv.URL()})
		srv.SetFaults(ecsemu.Faults{Reset: 1})
		_, err := e.StartInstances(context.Background(), sdkSTS, in)
		_ = wantNetworkError(t, err, sdkSTS)
		if _, err := e.StartInstances(context.Background(), sdkSTS, in); err != nil {
			t.Fatalf("the call after a reset: %v", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		srv := newSDKEmu(t, ecsemu.Options{})
		e := newSDK(t, Options{Endpoint: srv.URL()})
		srv.SetFaults(ecsemu.Faults{Latency: 3 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := e.DescribeInstances(ctx, sdkSTS, "cn-hangzhou", []string{"i-sdk00"})
		if d := time.Since(begin); d > 3*time.Second {
			t.Fatalf("the call outlived its context by %v: the context does not reach the request", d)
		}
		_ = wantNetworkError(t, err, sdkSTS)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v should match context.DeadlineExceeded", err)
		}
	})

	t.Run("read timeout", func(t *testing.T) {
		srv := newSDKEmu(t, ecsemu.Options{})
		e := newSDK(t, Options{Endpoint: srv.URL(), ReadTimeout: 100 * time.Millisecond})
		srv.SetFaults(ecsemu.Faults{Latency: 3 * time.Second})
		begin := time.Now()
		_, err := e.StartInstances(context.Background(), sdkSTS, in)
		if d := time.Since(begin); d > 3*time.Second {
			t.Fatalf("ReadTimeout ignored: the call took %v", d)
		}
		_ = wantNetworkError(t, err, sdkSTS)
	})
}

func TestSDKConcurrentCalls(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("i-sdk%02d", i)
			creds := sdkSTS
			if i%2 == 1 {
				creds = sdkAK
			}
			out, err := e.StartInstances(context.Background(), creds, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{id}, BatchOptimization: "SuccessFirst"})
			if err != nil {
				errs <- err
				return
			}
			if len(out.Responses) != 1 || out.Responses[0].InstanceID != id || out.Responses[0].Code != "200" {
				errs <- fmt.Errorf("%s: %+v", id, out.Responses)
			}
			if _, err := e.DescribeInstances(context.Background(), creds, "cn-hangzhou", []string{id}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < 20; i++ {
		if inst, _ := srv.Instance(fmt.Sprintf("i-sdk%02d", i)); inst.Status == ecsemu.Stopped {
			t.Errorf("%s was not started", inst.InstanceID)
		}
	}
}

func TestSDKReusesConnections(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	for i := 0; i < 10; i++ {
		if _, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", []string{"i-sdk00"}); err != nil {
			t.Fatal(err)
		}
	}
	// Each call has its own SDK client; the pool they share keeps one
	// connection alive across them. net/http returns a connection to the pool
	// from its read loop, so a call that follows at once may rarely dial a
	// second one; one per call would be 10.
	if st := srv.Stats(); st.Requests != 10 || st.Connections > 2 {
		t.Fatalf("stats = %+v, want 10 requests over 1 (at most 2) connections", st)
	}
}

func TestSDKDescribeInstances(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	out, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", []string{"i-sdkrunning", "i-sdklocked", "i-sdk00", "i-sdknothere"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ecsapi.InstanceInfo{}
	for _, in := range out.Instances {
		got[in.InstanceID] = in
	}
	if len(got) != 3 || out.RequestID == "" {
		t.Fatalf("instances = %+v", out.Instances)
	}
	if r := got["i-sdkrunning"]; r.Status != "Running" || r.RegionID != "cn-hangzhou" || r.StoppedMode != "Not-applicable" || len(r.Tags) != 2 || r.Tags["env"] != "prod" || r.Tags["team"] != "ops" {
		t.Fatalf("running instance = %+v", r)
	}
	if l := got["i-sdklocked"]; l.Status != "Stopped" || l.StoppedMode != "StopCharging" || len(l.LockReasons) != 1 || l.LockReasons[0] != "security" {
		t.Fatalf("locked instance = %+v", l)
	}
	if c := srv.Calls()[0]; c.Action != "DescribeInstances" || len(c.InstanceIDs) != 4 {
		t.Fatalf("call = %+v, want InstanceIds as a JSON array of 4", c)
	}

	// More than 100 IDs are asked in calls of 100.
	srv.ResetCalls()
	ids := make([]string, 130)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-sdkx%03d", i)
	}
	ids[129] = "i-sdk05"
	out, err = e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 1 || out.Instances[0].InstanceID != "i-sdk05" {
		t.Fatalf("instances = %+v", out.Instances)
	}
	if c := srv.Calls(); len(c) != 2 || len(c[0].InstanceIDs) != 100 || len(c[1].InstanceIDs) != 30 {
		t.Fatalf("calls = %d, want 100 + 30 IDs", len(c))
	}

	if out, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", nil); err != nil || len(out.Instances) != 0 {
		t.Fatalf("no IDs: %+v, %v", out, err)
	}
}

// captureTransport answers every request with a canned StartInstances
// answer and keeps the requests, to check URLs without a network.
type captureTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	body := `{"RequestId":"CAPTURED","InstanceResponses":{"InstanceResponse":[]}}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func (c *captureTransport) last(t *testing.T) *http.Request {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) == 0 {
		t.Fatal("no request was sent")
	}
	return c.reqs[len(c.reqs)-1]
}

func TestSDKEndpoints(t *testing.T) {
	in := func(region string) ecsapi.StartInstancesInput {
		return ecsapi.StartInstancesInput{RegionID: region, InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"}
	}
	for _, tc := range []struct {
		name, endpoint, region, scheme, host string
	}{
		{"default is https", "", "cn-hangzhou", "https", ""},
		{"region substituted", "https://ecs-vpc.{regionId}.aliyuncs.com", "cn-shanghai", "https", "ecs-vpc.cn-shanghai.aliyuncs.com"},
		{"plain http when asked", "http://127.0.0.1:8080", "cn-hangzhou", "http", "127.0.0.1:8080"},
		{"port and region", "https://{regionId}.ecs.internal:8443/", "ap-southeast-1", "https", "ap-southeast-1.ecs.internal:8443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capture := &captureTransport{}
			e := newSDK(t, Options{Endpoint: tc.endpoint, Transport: capture})
			out, err := e.StartInstances(context.Background(), sdkSTS, in(tc.region))
			if err != nil || out.RequestID != "CAPTURED" {
				t.Fatalf("StartInstances = %+v, %v", out, err)
			}
			u := capture.last(t).URL
			if u.Scheme != tc.scheme {
				t.Fatalf("scheme = %s, want %s (%s)", u.Scheme, tc.scheme, u.Redacted())
			}
			if tc.host != "" && u.Host != tc.host {
				t.Fatalf("host = %s, want %s", u.Host, tc.host)
			}
			if tc.host == "" && (!strings.Contains(u.Host, tc.region) || !strings.HasSuffix(u.Host, ".aliyuncs.com")) {
				t.Fatalf("default host = %s, want the regional public endpoint of %s", u.Host, tc.region)
			}
			if q := u.Query(); q.Get("Action") != "StartInstances" || q.Get("RegionId") != tc.region || q.Get("InstanceId.1") != "i-sdk00" {
				t.Fatalf("query = %v", q)
			}
		})
	}

	capture := &captureTransport{}
	e := newSDK(t, Options{Endpoint: "https://ecs.{regionId}.example.test", Transport: capture})
	_, err := e.StartInstances(context.Background(), sdkSTS, in("evil.host/x?"))
	if err == nil || len(capture.reqs) != 0 {
		t.Fatalf("a malformed region reached the network: %v", err)
	}

	for _, bad := range []string{"ftp://ecs.example.test", "ecs.cn-hangzhou.aliyuncs.com", "127.0.0.1:8080", "http://", "https://host/path",
		"https://host?x=1", "https://user:pw@host", "http://host/{regionId}", "://x"} {
		if _, err := NewECS(Options{Endpoint: bad}); err == nil {
			t.Errorf("NewECS accepted endpoint %q", bad)
		}
	}
}

func TestSDKCancelledContext(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.StartInstances(ctx, sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: "SuccessFirst"})
	_ = wantNetworkError(t, err, sdkSTS)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v should match context.Canceled", err)
	}
	if inst, _ := srv.Instance("i-sdk00"); inst.Status != ecsemu.Stopped {
		t.Fatal("a call with a cancelled context started an instance")
	}
}

func TestScrubSecrets(t *testing.T) {
	c := sdkSTS
	tok, sec := c.SecurityToken, c.AccessKeySecret
	for _, s := range []string{
		`Post "https://ecs.cn-hangzhou.aliyuncs.com/?AccessKeyId=STS.x&Signature=abc%2Bdef&SecurityToken=` + tok + `": dial tcp: refused`,
		`Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D` + tok,
		`{"SecurityToken":"` + tok + `","AccessKeySecret":"` + sec + `"}`,
		"token " + tok + " secret " + sec,
		"encoded token SecurityToken%3D" + tok,
		"lone query ?Signature=abc&SecurityToken=xyz",
	} {
		got := scrubSecrets(s, c)
		// A parameter name before "[redacted]" is fine; a value is not.
		assertNoSecrets(t, strings.NewReplacer("=[redacted]", "", "%3D[redacted]", "").Replace(got), c)
		if strings.Contains(got, "abc%2Bdef") || strings.Contains(got, "=xyz") {
			t.Errorf("signature survived: %s", got)
		}
	}
	// Text without secrets is left as it is.
	plain := "The specified InstanceId does not exist."
	if got := scrubSecrets(plain, c); got != plain {
		t.Fatalf("scrubSecrets changed %q into %q", plain, got)
	}
	if got := scrubSecrets("Specified signature is not matched with our calculation. server string to sign is:GET&%2F&x", c); got != "Specified signature is not matched with our calculation." {
		t.Fatalf("StringToSign not stripped: %q", got)
	}
}

// Concurrent first calls of fresh clients must not race inside the SDK (its
// endpoint map is filled lazily without a lock; NewECS fills it first).
// Under -race the detector checks that; without it the test still checks
// what a race would break: every call is answered, each signed on its own
// (the emulator accepts a SignatureNonce once), with the instance it asked.
func TestSDKFreshClientsDoNotRace(t *testing.T) {
	srv := newSDKEmu(t, ecsemu.Options{})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("i-sdk%02d", i)
			out, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", []string{id})
			switch {
			case err != nil:
				errs[i] = err
			case len(out.Instances) != 1 || out.Instances[0].InstanceID != id || out.RequestID == "":
				errs[i] = fmt.Errorf("call %d got %+v", i, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	calls := srv.Calls()
	if len(calls) != n {
		t.Fatalf("the emulator saw %d calls, want %d", len(calls), n)
	}
	for _, c := range calls {
		if c.HTTPStatus != http.StatusOK || c.Action != "DescribeInstances" {
			t.Fatalf("call %+v was refused", c)
		}
	}
}

// SDK calls run on worker goroutines (shallow): each call's function runs
// and is waited for, a panic in it is the call's errUnparsable, not the
// process's end, and once a burst of calls is over no more than
// maxKeptWorkers workers stay.
func TestSDKWorkers(t *testing.T) {
	err := (&callTransport{}).do(func() error { panic("a non-string Code") })
	if !errors.Is(err, errUnparsable) {
		t.Fatalf("a panic in the call: %v, want errUnparsable", err)
	}
	base := runtime.NumGoroutine()
	const calls = 100
	if maxKeptWorkers >= calls {
		t.Fatalf("a burst of %d calls does not pass the bound of %d kept workers", calls, maxKeptWorkers)
	}
	var inside sync.WaitGroup
	inside.Add(calls)
	release := make(chan struct{})
	var wg sync.WaitGroup
	var ran atomic.Int32
	for range calls {
		wg.Go(func() {
			shallow(func() {
				inside.Done()
				<-release
				ran.Add(1)
			})
		})
	}
	inside.Wait() // all 100 at once: 100 workers
	close(release)
	wg.Wait()
	if ran.Load() != calls {
		t.Fatalf("%d of %d calls ran before shallow returned", ran.Load(), calls)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+maxKeptWorkers && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+maxKeptWorkers {
		t.Fatalf("%d goroutines after the burst, %d before it: more than %d workers kept", n, base, maxKeptWorkers)
	}
}

// DESIGN §7: lookups use DescribeInstances with InstanceIds and MaxResults,
// never the deprecated PageSize/PageNumber; polls use DescribeInstanceStatus
// (up to 100 IDs a call, pages of at most 50 through PageNumber).
func TestSDKLookupsAndPollsUseTheirOwnCalls(t *testing.T) {
	f := sdkFleet()
	for i := 30; i < 130; i++ {
		f.Instances = append(f.Instances, ecsemu.Instance{InstanceID: fmt.Sprintf("i-sdk%03d", i), RegionID: "cn-hangzhou", Status: ecsemu.Running})
	}
	srv := newSDKEmu(t, ecsemu.Options{Fleet: f})
	e := newSDK(t, Options{Endpoint: srv.URL()})
	var ids []string
	for i := 30; i < 130; i++ {
		ids = append(ids, fmt.Sprintf("i-sdk%03d", i))
	}
	ids = append(ids, "i-sdk00", "i-sdknothere")
	look, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", ids)
	if err != nil || len(look.Instances) != 101 {
		t.Fatalf("lookup: %v, %d instances", err, len(look.Instances))
	}
	polled, err := e.DescribeInstanceStatus(context.Background(), sdkSTS, "cn-hangzhou", ids)
	if err != nil || len(polled.Instances) != 101 {
		t.Fatalf("poll: %v, %d instances", err, len(polled.Instances))
	}
	got := map[string]string{}
	for _, in := range polled.Instances {
		got[in.InstanceID] = in.Status
	}
	if got["i-sdk00"] != "Stopped" || got["i-sdk129"] != "Running" || got["i-sdk030"] != "Running" {
		t.Fatalf("polled statuses: %v", got)
	}
	var describes, polls int
	for _, c := range srv.Calls() {
		switch c.Action {
		case "DescribeInstances":
			describes++
			if c.PageSize != "" || c.PageNumber != "" || c.MaxResults != "100" || len(c.InstanceIDs) > 100 {
				t.Errorf("lookup with PageSize %q, PageNumber %q, MaxResults %q, %d IDs", c.PageSize, c.PageNumber, c.MaxResults, len(c.InstanceIDs))
			}
		case "DescribeInstanceStatus":
			polls++
			if c.PageSize != "50" || c.PageNumber == "" || len(c.InstanceIDs) > 100 {
				t.Errorf("poll with PageSize %q, PageNumber %q, %d IDs", c.PageSize, c.PageNumber, len(c.InstanceIDs))
			}
		}
	}
	// 102 IDs: two lookups (100 + 2); polls of 100 (pages 1 and 2) and of 2.
	if describes != 2 || polls != 3 {
		t.Errorf("%d lookups and %d polls, want 2 and 3", describes, polls)
	}
}
