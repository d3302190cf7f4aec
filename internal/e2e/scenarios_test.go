package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// httpEvent builds an FC 3.0 HTTP trigger event.
func httpEvent(body string, headers, query map[string]string) []byte {
	if headers == nil {
		headers = map[string]string{}
	}
	if _, ok := headers["Content-Type"]; !ok {
		headers["Content-Type"] = "application/json"
	}
	if query == nil {
		query = map[string]string{}
	}
	now := time.Now()
	return mustJSON(map[string]any{
		"version": "v1", "rawPath": "/", "headers": headers, "queryParameters": query,
		"body": body, "isBase64Encoded": false,
		"requestContext": map[string]any{
			"accountId": "1234567890123456", "domainName": "start-ecs.cn-hangzhou.fcapp.run",
			"requestId": "1-test", "time": now.UTC().Format(time.RFC3339), "timeEpoch": strconv.FormatInt(now.UnixMilli(), 10),
			"http": map[string]any{"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "test"},
		},
	})
}

func bearer() map[string]string { return map[string]string{"Authorization": "Bearer " + webhookSecret} }

func sign(secret, body string, ts int64) map[string]string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", ts, body)
	return map[string]string{"X-Signature-Timestamp": strconv.FormatInt(ts, 10), "X-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
}

const oneInstance = `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}`

func TestHTTPRefusesEveryoneUntilAuthIsConfigured(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	a := httpResult(t, invoke(t, h, httpEvent(oneInstance, bearer(), nil)))
	if a.StatusCode != http.StatusUnauthorized || !strings.Contains(a.Error.Message, "WEBHOOK_SECRET") {
		t.Fatalf("%d %s", a.StatusCode, a.Body)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls for an unauthenticated request", n)
	}
}

func TestHTTPAuthentication(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	now := time.Now().Unix()
	cases := []struct {
		name    string
		headers map[string]string
		query   map[string]string
		want    int
	}{
		{"bearer", bearer(), nil, http.StatusOK},
		{"lowercase header names", map[string]string{"authorization": "Bearer " + webhookSecret}, nil, http.StatusOK},
		{"wrong bearer", map[string]string{"Authorization": "Bearer nope"}, nil, http.StatusUnauthorized},
		{"no credential", nil, nil, http.StatusUnauthorized},
		{"signature", sign(webhookSecret, oneInstance, now), nil, http.StatusOK},
		{"signature by another secret", sign("another-secret", oneInstance, now), nil, http.StatusUnauthorized},
		{"stale signature", sign(webhookSecret, oneInstance, now-400), nil, http.StatusUnauthorized},
		{"token parameter", nil, map[string]string{"token": webhookSecret}, http.StatusOK},
		{"wrong token", nil, map[string]string{"token": "guess"}, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := httpResult(t, invoke(t, h, httpEvent(oneInstance, tc.headers, tc.query)))
			if a.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", a.StatusCode, tc.want, a.Body)
			}
		})
	}
}

func TestHTTPStatuses(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret, "MAX_BODY_BYTES": "300",
		"ALLOWED_INSTANCE_IDS": "i-bp67acfmxazb4p0001,i-bp67acfmxazb4p0002,i-bp1nobalance00001", "HTTP_WAIT": "1s"}, ecsemu.Options{})

	t.Run("413 over MAX_BODY_BYTES", func(t *testing.T) {
		body := `{"instanceIds":["i-bp67acfmxazb4p0001"],"pad":"` + strings.Repeat("x", 400) + `"}`
		if a := httpResult(t, invoke(t, h, httpEvent(body, bearer(), nil))); a.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
	})
	t.Run("400 names the field", func(t *testing.T) {
		a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0001","i-NOPE"]}`, bearer(), nil)))
		if a.StatusCode != http.StatusBadRequest || len(a.Error.Errors) == 0 || !strings.HasPrefix(a.Error.Errors[0].Field, "instanceIds") {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
	})
	t.Run("400 for an unparsable body", func(t *testing.T) {
		if a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":`, bearer(), nil))); a.StatusCode != http.StatusBadRequest {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
	})
	t.Run("403 when policy denies every instance", func(t *testing.T) {
		a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0009"]}`, bearer(), nil)))
		if a.StatusCode != http.StatusForbidden || a.Result.InstanceResponses.InstanceResponse[0].Code != hresult.CodeNotAllowed {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
	})
	t.Run("207 when some fail", func(t *testing.T) {
		a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0002","i-bp1nobalance00001"]}`, bearer(), nil)))
		got := outcomes(a.Result)
		if a.StatusCode != http.StatusMultiStatus || got["i-bp67acfmxazb4p0002"].Outcome != hresult.Started || got["i-bp1nobalance00001"].Outcome != hresult.Failed {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
	})
	t.Run("XML on request", func(t *testing.T) {
		a := httpResult(t, invoke(t, h, httpEvent(oneInstance, map[string]string{"Authorization": "Bearer " + webhookSecret, "Accept": "application/xml"}, nil)))
		if a.Headers["Content-Type"] != "application/xml" || !strings.Contains(a.Body, "<StartInstancesResponse>") || !strings.Contains(a.Body, "<InstanceResponse>") {
			t.Fatalf("%v %s", a.Headers, a.Body)
		}
	})
	t.Run("503 with Retry-After when ECS throttles past HTTP_WAIT", func(t *testing.T) {
		h.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 1000})
		defer h.ECS.SetFaults(ecsemu.Faults{})
		begin := time.Now()
		a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0002"]}`, bearer(), nil)))
		if a.StatusCode != http.StatusServiceUnavailable || a.Headers["Retry-After"] == "" {
			t.Fatalf("%d %v %s", a.StatusCode, a.Headers, a.Body)
		}
		ir := a.Result.InstanceResponses.InstanceResponse[0]
		if ir.Outcome != hresult.Unfinished || !ir.Retryable || ir.Code != "Throttling.User" {
			t.Fatalf("%+v", ir)
		}
		if took := time.Since(begin); took > 3*time.Second {
			t.Fatalf("answered after %s, HTTP_WAIT is 1s", took)
		}
	})
	t.Run("async HTTP returns an error when unfinished", func(t *testing.T) {
		h.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 1000})
		defer h.ECS.SetFaults(ecsemu.Faults{})
		hdr := bearer()
		hdr["X-Fc-Invocation-Type"] = "Async"
		out := invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0002"]}`, hdr, nil), func(i *fcemu.Invocation) { i.Timeout = 3 * time.Second })
		if !out.IsError || !strings.Contains(out.ErrorMessage, "i-bp67acfmxazb4p0002") {
			t.Fatalf("%+v", out.Result)
		}
	})
}

func manyStopped(n int) ecsemu.Fleet {
	var f ecsemu.Fleet
	for i := range n {
		f.Instances = append(f.Instances, ecsemu.Instance{InstanceID: fmt.Sprintf("i-bulk%08d", i), RegionID: "cn-hangzhou", Status: "Stopped"})
	}
	return f
}

func startFleet(t testing.TB, f ecsemu.Fleet, env map[string]string) *harness.Harness {
	t.Helper()
	h, err := harness.Start(context.Background(), harness.Options{Root: root, Fleet: f, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		if out := h.Fn.Output(); strings.Contains(out, "DATA RACE") {
			t.Errorf("the function has a data race:\n%s", out)
		}
	})
	return h
}

func idsOf(f ecsemu.Fleet) []string {
	var out []string
	for _, in := range f.Instances {
		out = append(out, in.InstanceID)
	}
	return out
}

func TestChunksOfAtMost100(t *testing.T) {
	t.Parallel()
	f := manyStopped(250)
	h := startFleet(t, f, nil)
	r := result(t, invoke(t, h, mustJSON(map[string]any{"instanceIds": idsOf(f)})))
	if r.Summary.Started != 250 || r.Summary.Requested != 250 {
		t.Fatalf("%+v", r.Summary)
	}
	var starts int
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" {
			starts++
			if len(c.InstanceIDs) > 100 || c.BatchOptimization != "SuccessFirst" {
				t.Fatalf("call of %d IDs, %s", len(c.InstanceIDs), c.BatchOptimization)
			}
		}
	}
	if starts != 3 {
		t.Fatalf("%d StartInstances calls for 250 instances", starts)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 3})
	r := result(t, invoke(t, h, []byte(oneInstance)))
	if ir := r.InstanceResponses.InstanceResponse[0]; ir.Outcome != hresult.Started {
		t.Fatalf("%+v", ir)
	}
	var throttled int
	for _, c := range h.ECS.Calls() {
		if c.Fault == "throttle" {
			throttled++
		}
	}
	if throttled != 3 {
		t.Fatalf("%d throttled calls", throttled)
	}
}

func TestDeadlineIsKept(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Latency: 10 * time.Second})
	out := invoke(t, h, []byte(oneInstance), func(i *fcemu.Invocation) { i.Timeout = 3 * time.Second })
	if !out.IsError || out.ErrorType != "UnfinishedError" || !strings.Contains(out.ErrorMessage, "i-bp67acfmxazb4p0001") {
		t.Fatalf("want an UnfinishedError, got %+v", out.Result)
	}
	if out.Duration >= 3*time.Second {
		t.Fatalf("answered after %s: past the 3 s deadline", out.Duration)
	}
	lines := out.LogsOf("instance")
	if len(lines) != 1 || lines[0]["outcome"] != "Unfinished" {
		t.Fatalf("log lines %v", out.Logs)
	}
}

// DESIGN §5, the deadline: the function answers before the invocation's
// deadline, whatever the calls in flight do and however many instances it
// reports. The margin is what answering takes once the work ends — the
// calls unwinding, the result, a line per instance on stdout — which does
// not shrink with the timeout: a 2 s invocation of 1,000 instances whose
// ECS answers after 10 s (the fault matrix's "latency past the deadline")
// answered after 2.03 s on a loaded machine when the margin was a fifth of
// the time left.
func TestDeadlineIsKeptForAThousandInstances(t *testing.T) {
	t.Parallel()
	f := manyStopped(1000)
	h := startFleet(t, f, nil)
	h.ECS.SetFaults(ecsemu.Faults{Latency: 10 * time.Second})
	const deadline = 2 * time.Second
	out := invoke(t, h, mustJSON(map[string]any{"regionId": "cn-hangzhou", "instanceIds": idsOf(f)}), func(i *fcemu.Invocation) { i.Timeout = deadline })
	if !out.IsError || out.ErrorType != "UnfinishedError" {
		t.Fatalf("want an UnfinishedError, got %+v", out.Result)
	}
	if out.Duration >= deadline {
		t.Fatalf("answered after %s: past the %s deadline", out.Duration, deadline)
	}
	if lines := out.LogsOf("instance"); len(lines) != 1000 {
		t.Fatalf("%d instance lines, want 1000", len(lines))
	}
	t.Logf("answered after %s of %s", out.Duration.Round(time.Millisecond), deadline)
}

func TestTwentyConcurrentInvocations(t *testing.T) {
	t.Parallel()
	f := manyStopped(20)
	h := startFleet(t, f, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for _, id := range idsOf(f) {
		wg.Go(func() {
			out, err := h.Invoke(context.Background(), fcemu.Invocation{Payload: mustJSON(map[string]any{"instanceIds": []string{id}})})
			if err != nil {
				errs <- err
				return
			}
			var r hresult.Result
			if err := out.Decode(&r); err != nil {
				errs <- err
				return
			}
			if len(r.InstanceResponses.InstanceResponse) != 1 || r.InstanceResponses.InstanceResponse[0].InstanceID != id ||
				r.InstanceResponses.InstanceResponse[0].Outcome != hresult.Started {
				errs <- fmt.Errorf("%s: %+v", id, r.InstanceResponses)
			}
			if n := len(out.LogsOf("instance")); n != 1 {
				errs <- fmt.Errorf("%s: %d instance lines", id, n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, in := range h.ECS.Instances() {
		if in.Status == "Stopped" {
			t.Errorf("%s was never started", in.InstanceID)
		}
	}
}

func TestNetworkErrorsLeakNoSecret(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	h.ECS.SetFaults(ecsemu.Faults{Reset: 1000})
	out := invoke(t, h, []byte(oneInstance), func(i *fcemu.Invocation) { i.Timeout = 4 * time.Second })
	if !out.IsError {
		t.Fatalf("want Unfinished, got %s", out.Payload)
	}
	for _, secret := range []string{harness.Role.AccessKeySecret, harness.Role.SecurityToken, "Signature="} {
		if strings.Contains(out.ErrorMessage, secret) || strings.Contains(string(out.Payload), secret) {
			t.Fatalf("the error leaks a secret: %s", out.ErrorMessage)
		}
	}
	if l := out.LogsOf("instance"); len(l) != 1 || l[0]["code"] != hresult.CodeNetworkError {
		t.Fatalf("%v", out.Logs)
	}
	// The cleanup of start checks the whole output of the function as well.
}

func TestMissingCredentials(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(oneInstance), func(i *fcemu.Invocation) { i.NoCredentials = true }))
	if ir := r.InstanceResponses.InstanceResponse[0]; ir.Outcome != hresult.Failed || ir.Code != hresult.CodeMissingCredentials {
		t.Fatalf("%+v", ir)
	}
	if len(h.ECS.Calls()) != 0 {
		t.Fatal("called ECS without credentials")
	}
}

func TestAllowedTag(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"ALLOWED_TAG": "start-ecs=allowed"}, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0004","i-bp1runningdemo001"]}`)))
	got := outcomes(r)
	if got["i-bp67acfmxazb4p0004"].Outcome != hresult.Started || got["i-bp1runningdemo001"].Outcome != hresult.Rejected ||
		got["i-bp1runningdemo001"].Code != hresult.CodeNotAllowed {
		t.Fatalf("%+v", got)
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" && len(c.InstanceIDs) != 1 {
			t.Fatalf("an untagged instance reached StartInstances: %+v", c)
		}
	}
}

func TestEveryOutcomeOfOneBatch(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(`[
		{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0005","i-bp67acfmxazb4p0003","i-bp1kmsdisabled001","i-bp1notfound000001"]},
		{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0006"],"dryRun":true},
		{"regionId":"cn-hangzhou","instanceIds":["i-BAD"]}
	]`)))
	want := map[string]hresult.Outcome{
		"i-bp67acfmxazb4p0005": hresult.Started, "i-bp67acfmxazb4p0003": hresult.AlreadyRunning,
		"i-bp1kmsdisabled001": hresult.Failed, "i-bp1notfound000001": hresult.Failed,
		"i-bp67acfmxazb4p0006": hresult.DryRunPassed, "i-BAD": hresult.Rejected,
	}
	got := outcomes(r)
	for id, o := range want {
		if got[id].Outcome != o {
			t.Errorf("%s: %s, want %s (%+v)", id, got[id].Outcome, o, got[id])
		}
	}
	if got["i-bp1kmsdisabled001"].Advice == "" {
		t.Error("a Failed outcome without Advice")
	}
}

func TestWarmInvocationsReuseConnections(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	for i := range 10 {
		id := fmt.Sprintf("i-bp67acfmxazb4p%04d", 10+i)
		_ = result(t, invoke(t, h, mustJSON(map[string]any{"instanceIds": []string{id}})))
	}
	if s := h.ECS.Stats(); s.Connections > 2 || s.Requests < 10 {
		t.Fatalf("%d connections for %d requests: warm invocations must reuse them", s.Connections, s.Requests)
	}
}

func TestConfigurationErrorsFailEveryInvocation(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"HTTP_AUTH": "sometimes"}, ecsemu.Options{})
	out := invoke(t, h, []byte(oneInstance))
	if !out.IsError || !strings.Contains(out.ErrorMessage, "HTTP_AUTH") {
		t.Fatalf("%+v", out.Result)
	}
}

func TestExpiredTimerIsIgnored(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	ev := mustJSON(map[string]any{"triggerTime": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339),
		"triggerName": "morning", "payload": oneInstance})
	r := result(t, invoke(t, h, ev, func(i *fcemu.Invocation) { i.RetryCount = 2 }))
	if r.Summary.Requested != 0 || len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0].Reason, "expired") ||
		len(r.Ignored[0].InstanceIDs) != 1 {
		t.Fatalf("%+v", r)
	}
	if len(h.ECS.Calls()) != 0 {
		t.Fatal("an expired event reached ECS")
	}
}

func TestAllTogether(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	t.Run("a running instance is set aside, the rest start together", func(t *testing.T) {
		r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp67acfmxazb4p0003","i-bp67acfmxazb4p0007","i-bp67acfmxazb4p0008"],"batchOptimization":"AllTogether"}`)))
		got := outcomes(r)
		if got["i-bp67acfmxazb4p0003"].Outcome != hresult.AlreadyRunning || got["i-bp67acfmxazb4p0007"].Outcome != hresult.Started ||
			got["i-bp67acfmxazb4p0008"].Outcome != hresult.Started {
			t.Fatalf("%+v", got)
		}
		var last ecsemu.Call
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" {
				last = c
			}
		}
		if last.BatchOptimization != "AllTogether" || len(last.InstanceIDs) != 2 {
			t.Fatalf("the rest were not started together: %+v", last)
		}
	})
	t.Run("one failing instance fails them all", func(t *testing.T) {
		r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp67acfmxazb4p0009","i-bp1kmsdisabled001"],"batchOptimization":"AllTogether"}`)))
		for id, ir := range outcomes(r) {
			if ir.Outcome != hresult.Failed || ir.Code != "InvalidParameter.KMSKeyId.CMKNotEnabled" {
				t.Errorf("%s: %+v", id, ir)
			}
		}
		if inst, _ := h.ECS.Instance("i-bp67acfmxazb4p0009"); inst.Status != "Stopped" {
			t.Fatalf("AllTogether started part of a failed call: %s", inst.Status)
		}
	})
	t.Run("over 100 is refused whole", func(t *testing.T) {
		var ids []string
		for i := range 101 {
			ids = append(ids, fmt.Sprintf("i-toomany%06d", i))
		}
		r := result(t, invoke(t, h, mustJSON(map[string]any{"instanceIds": ids, "batchOptimization": "AllTogether"})))
		if r.Summary.Rejected != 101 || r.InstanceResponses.InstanceResponse[0].Code != hresult.CodeInvalidParameter {
			t.Fatalf("%+v", r.Summary)
		}
	})
}

func TestStoppingInstanceIsStartedOnceStopped(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{SettleDelay: 300 * time.Millisecond})
	// The fleet's i-bp1stoppingdemo01 is Stopping; re-put it so the settle
	// delay runs from now.
	in, _ := h.ECS.Instance("i-bp1stoppingdemo01")
	in.Status = "Stopping"
	if err := h.ECS.SetInstance(in); err != nil {
		t.Fatal(err)
	}
	r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp1stoppingdemo01"]}`)))
	if ir := r.InstanceResponses.InstanceResponse[0]; ir.Outcome != hresult.Started {
		t.Fatalf("%+v", ir)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp67acfmxazb4p0011","i-bp67acfmxazb4p0003","i-bp1lockeddemo0001","i-bp1notthere000002"],"dryRun":true}`)))
	want := map[string]hresult.Outcome{"i-bp67acfmxazb4p0011": hresult.DryRunPassed, "i-bp67acfmxazb4p0003": hresult.AlreadyRunning,
		"i-bp1lockeddemo0001": hresult.Failed, "i-bp1notthere000002": hresult.Failed}
	got := outcomes(r)
	for id, o := range want {
		if got[id].Outcome != o {
			t.Errorf("%s: %+v, want %s", id, got[id], o)
		}
	}
	if !r.DryRun {
		t.Error("DryRun is false")
	}
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" && !c.DryRun {
			t.Fatalf("a dry run sent a real start: %+v", c)
		}
	}
	if inst, _ := h.ECS.Instance("i-bp67acfmxazb4p0011"); inst.Status != "Stopped" {
		t.Fatalf("a dry run started %s", inst.InstanceID)
	}
}

func TestStateChangeEventsRestartOnlyTaggedInstances(t *testing.T) {
	t.Parallel()
	ev := func(id, state string) []byte {
		return mustJSON(map[string]any{"id": "ev-" + id, "source": "acs.ecs", "specversion": "1.0", "type": "ecs:Instance:StateChange",
			"subject": "acs:ecs:cn-hangzhou:1234567890123456:instance/" + id, "time": time.Now().UTC().Format(time.RFC3339),
			"aliyunregionid": "cn-hangzhou", "data": map[string]any{"resourceId": id, "resourceType": "ALIYUN::ECS::Instance", "state": state}})
	}
	t.Run("without RESTART_TAG nothing restarts", func(t *testing.T) {
		h := start(t, nil, ecsemu.Options{})
		r := result(t, invoke(t, h, ev("i-bp67acfmxazb4p0012", "Stopped")))
		if r.Summary.Requested != 0 || len(r.Ignored) != 1 || len(h.ECS.Calls()) != 0 {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("with RESTART_TAG, only tagged ones", func(t *testing.T) {
		h := start(t, map[string]string{"RESTART_TAG": "auto-restart=true"}, ecsemu.Options{})
		r := result(t, invoke(t, h, ev("i-bp67acfmxazb4p0012", "Stopped")))
		if ir := outcomes(r)["i-bp67acfmxazb4p0012"]; ir.Outcome != hresult.Started {
			t.Fatalf("%+v", r)
		}
		r = result(t, invoke(t, h, ev("i-bp1nobalance00001", "Stopped"))) // carries no tag
		if r.Summary.Requested != 0 || len(r.Ignored) != 1 {
			t.Fatalf("an untagged instance: %+v", r)
		}
		r = result(t, invoke(t, h, ev("i-bp67acfmxazb4p0013", "Running")))
		if r.Summary.Requested != 0 || len(r.Ignored) != 1 {
			t.Fatalf("a Running event: %+v", r)
		}
	})
}
