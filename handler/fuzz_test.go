package handler

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
)

// The fuzz targets of RELIABILITY.md. `go test` runs their seed corpora (the
// samples of testdata/events and the files of testdata/fuzz); `go test -run ^$
// -fuzz FuzzX -fuzztime 10m -parallel 1 ./handler` explores. Each checks
// properties, not only that nothing panics: checkInvocation's (every instance
// reported exactly once, nothing invalid sent, no double start, no secret
// out), and that decoding is deterministic.

// fuzzHandler is a handler with the webhook secret, over a fresh acceptECS.
func fuzzHandler(t testing.TB, env map[string]string) (*Handler, *acceptECS, *strings.Builder) {
	t.Helper()
	base := map[string]string{"WEBHOOK_SECRET": invWebhookSecret, "DEFAULT_REGION_ID": "cn-hangzhou"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := ConfigFromEnv(envOf(base))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	ecs := newAcceptECS()
	h := New(cfg, nil, ecs, &logs)
	h.starter.Backoff = fastBackoff
	return h, ecs, &logs
}

// handleOnce runs one invocation on a fresh handler and checks it.
func handleOnce(t testing.TB, payload []byte, isHTTP bool) (invocationRun, reported) {
	t.Helper()
	h, ecs, logs := fuzzHandler(t, nil)
	ctx, cancel := context.WithTimeout(invContext(context.Background(), "fuzz-1"), 20*time.Second)
	defer cancel()
	answer, err := h.Handle(ctx, payload)
	run := invocationRun{input: payload, answer: answer, err: err, logs: []byte(logs.String())}
	run.sent, run.accepted, run.calls = ecs.sent()
	if isHTTP && err == nil {
		var resp HTTPResponse
		if e := json.Unmarshal(answer, &resp); e != nil || resp.StatusCode == 0 {
			t.Fatalf("an HTTP event got no HTTP answer: %.300s", answer)
		}
		run.status = resp.StatusCode
		run.answer = []byte(resp.Body)
		switch resp.StatusCode {
		case 200, 207, 400, 401, 403, 413, 503:
		default:
			t.Fatalf("HTTP %d is not a status of DESIGN §5", resp.StatusCode)
		}
	}
	rep := checkInvocation(t, run)
	return run, rep
}

// outcomeMap is the instance → outcome/code of a run, to compare two runs.
func outcomeMap(rep reported) map[string]string {
	m := map[string]string{}
	for k, l := range rep.instances {
		m[k] = l.str("outcome") + "/" + l.str("code")
	}
	return m
}

// namedIn decodes payload the way the handler does and lists the IDs its
// requests name; it also checks that decoding is deterministic.
func namedIn(t testing.TB, payload []byte) (names []string, msgs []events.Message) {
	t.Helper()
	if req, ok, err := events.ParseHTTP(payload); ok {
		if err != nil {
			return nil, nil
		}
		again, _, _ := events.ParseHTTP(payload)
		if !reflect.DeepEqual(req, again) {
			t.Fatal("ParseHTTP is not deterministic")
		}
		m1, e1 := events.DecodeHTTP(req)
		m2, e2 := events.DecodeHTTP(again)
		if !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(e1, e2) {
			t.Fatal("DecodeHTTP is not deterministic")
		}
		msgs = m1
	} else {
		msgs = events.Decode(payload)
		if again := events.Decode(payload); !reflect.DeepEqual(msgs, again) {
			t.Fatal("Decode is not deterministic")
		}
	}
	for _, m := range msgs {
		names = append(names, m.Request.InstanceIDs...)
	}
	return names, msgs
}

// checkCanonicalRoundTrip: a valid request, written back in the canonical
// spelling and decoded again, is the same request (the spellings agree).
func checkCanonicalRoundTrip(t testing.TB, msgs []events.Message) {
	t.Helper()
	if len(msgs) != 1 || msgs[0].Ignored != "" || len(msgs[0].Errors) > 0 || len(plan.Validate(msgs[0].Request)) > 0 {
		return
	}
	req := msgs[0].Request
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	back := events.Decode(b)
	if len(back) != 1 || back[0].Ignored != "" || len(back[0].Errors) > 0 {
		t.Fatalf("the canonical form %s of a valid request does not decode: %+v", b, back)
	}
	got := back[0].Request
	if !reflect.DeepEqual(got.InstanceIDs, req.InstanceIDs) || got.RegionID != req.RegionID ||
		got.BatchOptimization != req.BatchOptimization || got.DryRun != req.DryRun || got.NotAfter != req.NotAfter {
		t.Fatalf("round trip through the canonical spelling changed the request:\n%+v\n%+v", req, got)
	}
}

// httpEventOf builds an FC 3.0 HTTP trigger event.
func httpEventOf(body string, b64 bool, headers map[string]string, query map[string]any) []byte {
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "headers": headers, "queryParameters": query,
		"body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{"requestId": "fuzz-http", "timeEpoch": strconv.FormatInt(time.Now().UnixMilli(), 10),
			"http": map[string]any{"method": "POST", "sourceIp": "203.0.113.9"}},
	}
	b, _ := json.Marshal(ev)
	return b
}

// queryOf turns a query string into FC's queryParameters (a value given
// several times is an array), and whether it parsed.
func queryOf(s string) (map[string]any, bool) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, false
	}
	q := map[string]any{}
	for k, vals := range v {
		if len(vals) == 1 {
			q[k] = vals[0]
		} else {
			q[k] = vals
		}
	}
	return q, true
}

func seedFiles(f *testing.F, pattern string) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "events", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples %s: %v", pattern, err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name) //nolint:gosec // G304: the repository's own samples
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// startRequestSeeds are start requests in both spellings, valid and not:
// JSON, query and form bodies, indexed InstanceId.N, and Tag.N (refused as
// an unknown field until tags exist; seeded so that they are covered then).
var startRequestSeeds = []string{
	`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]}`,
	`{"instanceIds":["i-bp67acfmxazb4p0001"],"batchOptimization":"AllTogether","dryRun":true,"notAfter":"2099-01-01T00:00:00Z"}`,
	`{"Action":"StartInstances","RegionId":"cn-hangzhou","InstanceId":["i-bp67acfmxazb4p0001"],"DryRun":"false"}`,
	`{"RegionId":"cn-hangzhou","InstanceId.1":"i-bp67acfmxazb4p0001","InstanceId.2":"i-bp67acfmxazb4p0002"}`,
	`{"InstanceId":"[\"i-bp67acfmxazb4p0001\",\"i-bp67acfmxazb4p0002\"]"}`,
	`{"InstanceId":"i-bp67acfmxazb4p0001,i-bp67acfmxazb4p0002"}`,
	`[{"instanceIds":["i-bp67acfmxazb4p0001"]},{"regionId":"cn-beijing","instanceIds":["i-bp67acfmxazb4p0001"]}]`,
	`{"instanceIds":["i-bp67acfmxazb4p0001",1,null,"i-BAD"]}`,
	`{"instanceIds":["A"],"instanceIds":["B"]}`,
	`{"instanceID":["i-bp67acfmxazb4p0001"]}`,
	`{"instanceIds":["i-bp67acfmxazb4p0001"],"tags":[{"key":"env","value":"prod"}]}`,
	`{"RegionId":"cn-hangzhou","Tag.1.Key":"env","Tag.1.Value":"prod"}`,
	`Action=StartInstances&RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001&InstanceId.2=i-bp67acfmxazb4p0002`,
	`RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001&Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=team`,
	`InstanceId.0=i-bp67acfmxazb4p0001&InstanceId.99999999999=i-bp67acfmxazb4p0002`,
	`InstanceId.1=i-bp67acfmxazb4p0001&InstanceId.3=i-bp67acfmxazb4p0002`,
	`InstanceId=%5B%22i-bp67acfmxazb4p0001%22%5D&BatchOptimization=successfirst`,
	`InstanceId.1=i-bp67acfmxazb4p0001%26Action%3DStopInstances&RegionId=cn-hangzhou`,
	`InstanceId.1=i-bp67acfmxazb4p0001;Action=StopInstances`,
	`instanceIds=i-bp67acfmxazb4p0001&InstanceId.1=i-bp67acfmxazb4p0002`,
	`InstanceId.1=i-bp67acfmxazb4p0001&InstanceId.1=i-bp67acfmxazb4p0002`,
	`Action=StopInstances&InstanceId.1=i-bp67acfmxazb4p0001`,
}

// FuzzStartRequest feeds start requests through every way they arrive — a
// direct invoke, a timer's payload, an HTTP JSON body, a form body, a query
// string — to the real decode, validate and plan path with an ECS that
// accepts everything.
func FuzzStartRequest(f *testing.F) {
	for _, s := range startRequestSeeds {
		for form := range uint8(5) {
			f.Add(form, s)
		}
	}
	f.Fuzz(func(t *testing.T, form uint8, body string) {
		var payload []byte
		isHTTP := true
		auth := map[string]string{"Authorization": "Bearer " + invWebhookSecret}
		switch form % 5 {
		case 0:
			payload, isHTTP = []byte(body), false
		case 1:
			payload, _ = json.Marshal(map[string]any{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "fuzz", "payload": body})
			isHTTP = false
		case 2:
			auth["Content-Type"] = "application/json"
			payload = httpEventOf(body, false, auth, map[string]any{})
		case 3:
			auth["Content-Type"] = "application/x-www-form-urlencoded"
			payload = httpEventOf(body, false, auth, map[string]any{})
		case 4:
			q, ok := queryOf(body)
			if !ok {
				return
			}
			payload = httpEventOf("", false, auth, q)
		}
		if _, ok, _ := events.ParseHTTP(payload); ok != isHTTP {
			if !isHTTP {
				return // a direct payload that is itself an HTTP event: FuzzHTTP's
			}
			t.Fatalf("an HTTP event is not recognised: %s", payload)
		}
		names, msgs := namedIn(t, payload)
		checkCanonicalRoundTrip(t, msgs)
		run, rep := handleOnce(t, payload, isHTTP)
		if run.status != 400 && run.status != 401 {
			checkNamedReported(t, names, rep)
		}
		// Deterministic end to end: the same payload, the same outcomes.
		run2, rep2 := handleOnce(t, payload, isHTTP)
		if run.status != run2.status || !reflect.DeepEqual(outcomeMap(rep), outcomeMap(rep2)) {
			t.Fatalf("two runs of one payload differ: %d %v / %d %v", run.status, outcomeMap(rep), run2.status, outcomeMap(rep2))
		}
	})
}

// FuzzHTTP drives the HTTP path from an FC HTTP event to the answer,
// authentication included: the body, the query, one extra header, base64 or
// not, and how the caller authenticates (auth%6: 0 nothing, 1 the bearer,
// 2 a wrong bearer, 3 a signature, 4 the token parameter, 5 the body is the
// whole event). Whoever does not hold the secret gets 401 and sends nothing.
func FuzzHTTP(f *testing.F) {
	for _, b := range seedFiles(f, "http-*.json") {
		f.Add(string(b), "", uint8(5), "", "", false)
	}
	for i, s := range startRequestSeeds {
		f.Add(s, "Format=XML", uint8(i%5), "Accept", "application/xml", i%3 == 0)
		f.Add(s, "token="+invWebhookSecret+"&InstanceId.1=i-bp67acfmxazb4p0009", uint8(3), "X-Fc-Invocation-Type", "Async", false)
	}
	f.Add("", "RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001", uint8(3), "Content-Type", "application/x-www-form-urlencoded", false)
	f.Add(`alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D`, "", uint8(1), "Content-Type", "application/x-www-form-urlencoded", false)
	f.Fuzz(func(t *testing.T, body, query string, auth uint8, hdrName, hdrValue string, b64 bool) {
		var payload []byte
		authentic := false
		if auth%6 == 5 {
			payload = []byte(body)
		} else {
			headers := map[string]string{}
			q, ok := queryOf(query)
			if !ok {
				q = map[string]any{}
			}
			switch auth % 6 {
			case 1:
				headers["Authorization"], authentic = "Bearer "+invWebhookSecret, true
			case 2:
				headers["Authorization"] = "Bearer " + invWebhookSecret[:len(invWebhookSecret)-1]
			case 3:
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				mac := hmac.New(sha256.New, []byte(invWebhookSecret))
				fmt.Fprintf(mac, "%s.%s", ts, body)
				headers["X-Signature-Timestamp"], headers["X-Signature-256"] = ts, "sha256="+hex.EncodeToString(mac.Sum(nil))
				authentic = true
			case 4:
				q["token"], authentic = invWebhookSecret, true
			}
			if hdrName != "" {
				if _, taken := headers[hdrName]; !taken {
					headers[hdrName] = hdrValue
				}
			}
			payload = httpEventOf(body, b64, headers, q)
		}
		if _, ok, _ := events.ParseHTTP(payload); !ok {
			return // not an HTTP event: FuzzStartRequest's and FuzzDecode's
		}
		run, _ := handleOnce(t, payload, true)
		if run.status != 0 && run.status != 401 && !authentic && !strings.Contains(string(payload), invWebhookSecret) {
			t.Fatalf("HTTP %d for a caller without the secret", run.status)
		}
		if run.status == 401 && run.calls > 0 {
			t.Fatalf("%d ECS calls for an unauthenticated caller", run.calls)
		}
	})
}

// FuzzECSAnswer feeds the SDK adapter arbitrary answers — any status, any
// body — from a server that answers every call with them, then runs the
// starter over the same server: the adapter's errors are the interface's
// kinds, every asked instance gets exactly one outcome and no other does,
// Retryable is exactly Unfinished, and nothing the server said brings a
// secret out (it may echo the signed request: "{{query}}" in the body is
// replaced by the query string the SDK sent).
func FuzzECSAnswer(f *testing.F) {
	asked := []string{"i-fz0000000001", "i-fz0000000002", "i-fz0000000003"}
	ok := func(ids ...string) string {
		var rs []string
		for _, id := range ids {
			rs = append(rs, `{"InstanceId":"`+id+`","Code":"200","Message":"success","PreviousStatus":"Stopped","CurrentStatus":"Starting"}`)
		}
		return `{"RequestId":"R1","InstanceResponses":{"InstanceResponse":[` + strings.Join(rs, ",") + `]}}`
	}
	seeds := []struct {
		status uint16
		body   string
	}{
		{200, ok(asked...)},
		{200, ok(asked[0], asked[1])},
		{200, ok(asked[0], asked[0], asked[1], asked[2], "i-notasked00001")},
		{200, ok(asked...)[:40]},
		{200, `<html><body>502 Bad Gateway</body></html>`},
		{200, `{}`},
		{200, `{"RequestId":"R","InstanceResponses":{"InstanceResponse":{"InstanceId":"x"}}}`},
		{200, `{"RequestId":"R","Instances":{"Instance":[{"InstanceId":"i-fz0000000001","Status":"Running","Tags":{"Tag":[{"TagKey":"env","TagValue":"prod"}]},"OperationLocks":{"LockReason":[{"LockReason":"security"}]}}]}}`},
		{400, `{"RequestId":"R","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`},
		{403, `{"RequestId":"R","Code":"IncorrectInstanceStatus","Message":"x"}`},
		{404, `{"RequestId":"R","Code":"InvalidInstanceIds.NotFound","Message":"x"}`},
		{500, `{"RequestId":"R","Code":"InternalError","Message":"x"}`},
		{503, `{"RequestId":"R","Code":"ServiceUnavailable","Message":"x"}`},
		{400, `{"RequestId":"R","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:GET&%2F&{{query}}"}`},
		{400, `{"RequestId":"` + invCreds.SecurityToken[3:40] + `","Code":"` + invCreds.AccessKeySecret + `","Message":"{{query}}"}`},
		{200, `{"RequestId":"{{query}}","InstanceResponses":{"InstanceResponse":[{"InstanceId":"i-fz0000000001","Code":"` + invCreds.AccessKeySecret[2:20] + `","Message":"https://ecs.aliyuncs.com/?{{query}}"}]}}`},
		{400, `{"RequestId":"R","Code":1,"Message":["x"]}`},
		{502, ``},
		{200, `{"RequestId":"R","NextToken":"{{query}}","Instances":{"Instance":[{"InstanceId":"i-fz0000000009","Status":"Stopped","Tags":{"Tag":[{"TagKey":"env","TagValue":"prod"}]}}]}}`},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body), uint8(0))
		f.Add(s.status, []byte(s.body), uint8(1))
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte, mode uint8) {
		code := 200 + int(status)%400
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b := []byte(strings.ReplaceAll(string(body), "{{query}}", r.URL.RawQuery))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write(b)
		}))
		defer srv.Close()
		e, err := aliyun.NewECS(aliyun.Options{Endpoint: srv.URL, ReadTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var texts []string
		checkErr := func(err error) {
			if err == nil {
				return
			}
			var api *ecsapi.APIError
			var ne *ecsapi.NetworkError
			var pe *ecsapi.PermanentError
			if !errors.As(err, &api) && !errors.As(err, &ne) && !errors.As(err, &pe) {
				t.Fatalf("an error of no kind of the interface: %T %v", err, err)
			}
			texts = append(texts, err.Error())
		}
		batch := []string{ecsapi.SuccessFirst, ecsapi.AllTogether}[mode%2]
		out, err := e.StartInstances(ctx, invCreds, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: asked, BatchOptimization: batch})
		checkErr(err)
		if err == nil {
			texts = append(texts, fmt.Sprintf("%+v", *out))
		}
		dout, err := e.DescribeInstances(ctx, invCreds, "cn-hangzhou", asked)
		checkErr(err)
		if err == nil {
			texts = append(texts, fmt.Sprintf("%+v", *dout))
		}
		tout, err := e.DescribeInstancesByTags(ctx, invCreds, ecsapi.DescribeByTagsInput{RegionID: "cn-hangzhou",
			Tags: []ecsapi.Tag{{Key: "env", Value: "prod"}}, NextToken: "{{query}}"})
		checkErr(err)
		if err == nil {
			texts = append(texts, fmt.Sprintf("%+v", *tout))
		}

		s := &starter.Starter{ECS: e, MaxConcurrent: 2, Backoff: starter.Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 3}}
		sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer scancel()
		res, warnings := s.NewRun(invCreds, nil).StartGroups(sctx, []starter.Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: asked, BatchOptimization: batch, DryRun: mode%4 >= 2}})
		if len(res) != len(asked) {
			t.Fatalf("%d results for %d instances: %v", len(res), len(asked), res)
		}
		for _, id := range asked {
			ir, ok := res[ecsapi.InstanceKey(ecsapi.Scope{Region: "cn-hangzhou"}, id)]
			if !ok || ir.InstanceID != id || ir.RegionID != "cn-hangzhou" {
				t.Fatalf("%s: no result of its own (%+v)", id, ir)
			}
			if ir.Retryable != (ir.Outcome == result.Unfinished) {
				t.Fatalf("%s: Retryable %v with %s", id, ir.Retryable, ir.Outcome)
			}
			switch ir.Outcome {
			case result.Started, result.AlreadyRunning, result.DryRunPassed, result.Failed, result.Unfinished:
			default:
				t.Fatalf("%s: outcome %q after ECS was asked", id, ir.Outcome)
			}
			texts = append(texts, fmt.Sprintf("%+v", ir))
		}
		for _, w := range warnings {
			texts = append(texts, fmt.Sprintf("%+v", w))
		}
		checkNoSecrets(t, nil, []byte(strings.Join(texts, "\n")))
	})
}
