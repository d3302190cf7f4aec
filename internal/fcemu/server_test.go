package fcemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/fcemu"
)

func TestInvokeRoundTripsPayloadAndContext(t *testing.T) {
	// A developer's own key in the environment must not reach the function.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-developer-key")
	cfg := fcemu.Config{
		FunctionName: "start-ecs",
		Handler:      "bootstrap",
		MemoryMB:     256,
		LogProject:   "proj",
		LogStore:     "store",
		Qualifier:    "prod",
		Region:       "cn-beijing",
		AccountID:    "5555",
	}
	s, p := startEcho(t, cfg, "ECHOFN_MARK=set-by-test")

	payload := `{"hello":"world","n":[1,2,3]}`
	res := invoke(t, s, fcemu.Invocation{
		Payload:     []byte(payload),
		RequestID:   "req-roundtrip-1",
		Credentials: fcemu.Credentials{AccessKeyID: "STS.ak", AccessKeySecret: "sk", SecurityToken: "token"},
		Region:      "cn-shanghai",
		AccountID:   "999",
		RetryCount:  2,
	})
	if res.IsError {
		t.Fatalf("function error: %s", res.Payload)
	}
	if res.RequestID != "req-roundtrip-1" {
		t.Errorf("Result.RequestID = %q", res.RequestID)
	}
	got := decodeEcho(t, res.Payload)
	want := echo{
		RequestID: "req-roundtrip-1", Payload: payload,
		AccessKeyID: "STS.ak", AccessKeySecret: "sk", SecurityToken: "token",
		Region: "cn-shanghai", AccountID: "999", RetryCount: 2,
		FunctionName: "start-ecs", Handler: "bootstrap", Memory: "256", TimeoutSec: 60,
		Qualifier: "prod", LogProject: "proj", LogStore: "store",
	}
	got.DeadlineMs, got.Env, got.Event = 0, nil, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("echo:\n got %+v\nwant %+v", got, want)
	}

	env := decodeEcho(t, res.Payload).Env
	wantEnv := map[string]string{"FC_FUNCTION_NAME": "start-ecs", "FC_REGION": "cn-beijing", "FC_ACCOUNT_ID": "5555", "ECHOFN_MARK": "set-by-test"}
	if fmt.Sprint(env) != fmt.Sprint(wantEnv) {
		t.Errorf("function environment = %v, want %v (and no ALIBABA_CLOUD_*)", env, wantEnv)
	}

	// The function's slog line carries the request ID and the retry count.
	if _, err := p.WaitForLine(5*time.Second, func(l fcemu.Line) bool {
		m, ok := l.JSON()
		return ok && m["msg"] == "echo" && m["requestId"] == "req-roundtrip-1"
	}); err != nil {
		t.Fatal(err)
	}
	recs := p.Records("req-roundtrip-1")
	if len(recs) != 1 || recs[0]["retryCount"] != float64(2) {
		t.Errorf("records for the request = %v, want one with retryCount 2", recs)
	}
	if n := len(p.Records("no-such-request")); n != 0 {
		t.Errorf("records for an unknown request: %d", n)
	}
}

func TestInvokeWithoutCredentialsSendsNone(t *testing.T) {
	s, _ := startEcho(t, fcemu.Config{Credentials: fcemu.Credentials{AccessKeyID: "cfg-ak", AccessKeySecret: "cfg-sk"}})

	withCfg := decodeEcho(t, invoke(t, s, fcemu.Invocation{Payload: []byte(`{}`)}).Payload)
	if withCfg.AccessKeyID != "cfg-ak" || withCfg.AccessKeySecret != "cfg-sk" {
		t.Errorf("default credentials did not reach the function: %+v", withCfg)
	}
	none := decodeEcho(t, invoke(t, s, fcemu.Invocation{Payload: []byte(`{}`), NoCredentials: true}).Payload)
	if none.AccessKeyID != "" || none.AccessKeySecret != "" || none.SecurityToken != "" {
		t.Errorf("NoCredentials still sent credentials: %+v", none)
	}
	if !strings.HasPrefix(none.RequestID, "1-") {
		t.Errorf("generated request ID %q is not in FC 3.0's form", none.RequestID)
	}
}

func TestDeadlineReachesContext(t *testing.T) {
	s, _ := startEcho(t, fcemu.Config{})
	for _, tc := range []struct {
		timeout    time.Duration
		wantHeader int
	}{
		{3 * time.Second, 3},
		{1500 * time.Millisecond, 2}, // whole seconds, rounded up
	} {
		t.Run(tc.timeout.String(), func(t *testing.T) {
			start := time.Now()
			res := invoke(t, s, fcemu.Invocation{Payload: []byte(`{}`), Timeout: tc.timeout})
			e := decodeEcho(t, res.Payload)
			if e.DeadlineMs != res.Deadline.UnixMilli() {
				t.Errorf("ctx deadline %d ms, sent %d ms", e.DeadlineMs, res.Deadline.UnixMilli())
			}
			if d := res.Deadline.Sub(start); d < tc.timeout-100*time.Millisecond || d > tc.timeout+time.Second {
				t.Errorf("deadline is %s after the call, want about %s", d, tc.timeout)
			}
			if e.TimeoutSec != tc.wantHeader {
				t.Errorf("function timeout = %d s, want %d", e.TimeoutSec, tc.wantHeader)
			}
			if res.Duration <= 0 || res.Duration > tc.timeout {
				t.Errorf("Duration = %s", res.Duration)
			}
		})
	}
}

func TestFunctionErrorIsPosted(t *testing.T) {
	s, _ := startEcho(t, fcemu.Config{})
	res := invoke(t, s, fcemu.Invocation{Payload: []byte(`{"fail":"boom"}`)})
	if !res.IsError {
		t.Fatalf("want an error result, got %s", res.Payload)
	}
	if res.ErrorMessage != "boom" || res.ErrorType != "errorString" {
		t.Errorf("error = %q / %q, want boom / errorString", res.ErrorMessage, res.ErrorType)
	}
	var body map[string]any
	if err := json.Unmarshal(res.Payload, &body); err != nil || body["errorMessage"] != "boom" {
		t.Errorf("error payload %s (%v)", res.Payload, err)
	}
}

func TestConcurrentInvocationsGetTheirOwnAnswers(t *testing.T) {
	s, _ := startEcho(t, fcemu.Config{})
	const n = 20
	const sleep = 300 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("req-concurrent-%02d", i)
			payload := fmt.Sprintf(`{"i":%d,"sleepMs":%d}`, i, sleep.Milliseconds())
			res, err := s.Invoke(context.Background(), fcemu.Invocation{Payload: []byte(payload), RequestID: id, Timeout: 10 * time.Second})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
				return
			}
			var e echo
			if err := json.Unmarshal(res.Payload, &e); err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
				return
			}
			if res.RequestID != id || e.RequestID != id || e.Payload != payload {
				errs <- fmt.Errorf("%s got the answer of %s (payload %s)", id, e.RequestID, e.Payload)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The SDK runs each invocation in its own goroutine: 20 sleeps overlap.
	if elapsed := time.Since(start); elapsed > n*sleep/2 {
		t.Errorf("20 invocations took %s: they did not run concurrently", elapsed)
	}
	if got := s.Dispatched(); got != n {
		t.Errorf("Dispatched = %d, want %d", got, n)
	}
}

func TestInvokeTimesOutAndRefusesTheLateResult(t *testing.T) {
	s, p := startEcho(t, fcemu.Config{})
	start := time.Now()
	_, err := s.Invoke(context.Background(), fcemu.Invocation{Payload: []byte(`{"sleepMs":1500}`), Timeout: time.Second})
	if !errors.Is(err, fcemu.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if elapsed := time.Since(start); elapsed < time.Second || elapsed > 1400*time.Millisecond {
		t.Errorf("gave up after %s, want just past the 1s deadline", elapsed)
	}
	// The SDK posts anyway and logs the refusal (410 Gone).
	if _, err := p.WaitForLine(5*time.Second, func(l fcemu.Line) bool {
		return l.Stream == fcemu.Stderr && strings.Contains(l.Text, "410")
	}); err != nil {
		t.Error(err)
	}
}

func TestLifecycleInvocations(t *testing.T) {
	s, p := startEcho(t, fcemu.Config{})
	for _, tc := range []struct {
		name    string
		typ     int
		logMsg  string // the hook's log line; empty when none is registered
		wantErr string
	}{
		{name: "initializer", typ: fcemu.FunctionTypeInitializer, logMsg: "initializer"},
		{name: "preStop", typ: fcemu.FunctionTypePreStop, logMsg: "preStop"},
		{name: "preFreeze unregistered", typ: fcemu.FunctionTypePreFreeze, wantErr: "no prefreeze handler registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "req-lifecycle-" + strconv.Itoa(tc.typ)
			res := invoke(t, s, fcemu.Invocation{RequestID: id, FunctionType: tc.typ})
			if tc.wantErr != "" {
				if !res.IsError || res.ErrorMessage != tc.wantErr {
					t.Errorf("result %+v, want error %q", res, tc.wantErr)
				}
				return
			}
			if res.IsError || len(res.Payload) != 0 {
				t.Errorf("result %+v (payload %q), want an empty success", res, res.Payload)
			}
			if _, err := p.WaitForLine(5*time.Second, func(l fcemu.Line) bool {
				m, ok := l.JSON()
				return ok && m["msg"] == tc.logMsg && m["requestId"] == id
			}); err != nil {
				t.Error(err)
			}
			// The handler itself must not have run.
			for _, r := range p.Records(id) {
				if r["msg"] == "echo" {
					t.Errorf("the handler ran for a %s invocation", tc.name)
				}
			}
		})
	}
}

// fakeFunction speaks the runtime API by hand, to check the wire format and
// the server's answers to a misbehaving client.
type fakeFunction struct {
	base string
}

func (f fakeFunction) next(t *testing.T) (http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, f.base+"next", nil)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET next: %d %s", resp.StatusCode, b)
	}
	return resp.Header, b
}

func (f fakeFunction) post(t *testing.T, id, kind, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, f.base+id+"/"+kind, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err) // may run on a goroutine of its own: no Fatal
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRuntimeAPIWireFormat(t *testing.T) {
	s, err := fcemu.NewWithConfig(fcemu.Config{ServiceName: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fn := fakeFunction{base: "http://" + s.Addr() + "/2020-11-11/runtime/invocation/"}

	type answer struct {
		res *fcemu.Result
		err error
	}
	results := make(chan answer, 2)
	go func() {
		res, err := s.Invoke(context.Background(), fcemu.Invocation{
			Payload: []byte("raw bytes, not JSON"), RequestID: "req-wire-1", Timeout: 5 * time.Second,
			Credentials:  fcemu.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk", SecurityToken: "tok"},
			ExtraHeaders: http.Header{"X-Fc-Qualifier": {"override"}},
		})
		results <- answer{res, err}
	}()
	h, body := fn.next(t)
	if string(body) != "raw bytes, not JSON" {
		t.Errorf("payload %q", body)
	}
	wantHeaders := map[string]string{
		"x-fc-request-id": "req-wire-1", "x-fc-function-timeout": "5",
		"x-fc-access-key-id": "ak", "x-fc-access-key-secret": "sk", "x-fc-security-token": "tok",
		"x-fc-region": "cn-hangzhou", "x-fc-account-id": "1234567890123456", "x-fc-retry-count": "0",
		"x-fc-function-name": "fcemu-function", "x-fc-function-handler": "main", "x-fc-function-memory": "512",
		"x-fc-service-name": "svc", "x-fc-service-logproject": "fcemu-logproject", "x-fc-service-logstore": "fcemu-logstore",
		"x-fc-qualifier": "override", "x-fc-function-type": "",
	}
	for k, v := range wantHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	deadline, err := strconv.ParseInt(h.Get("x-fc-function-deadline"), 10, 64)
	if err != nil {
		t.Fatalf("x-fc-function-deadline: %v", err)
	}
	if d := time.Until(time.UnixMilli(deadline)); d < 4*time.Second || d > 5*time.Second {
		t.Errorf("deadline in %s, want about 5s", d)
	}

	if code := fn.post(t, "req-unknown", "response", `{}`); code != http.StatusNotFound {
		t.Errorf("result for an unknown id: %d, want 404", code)
	}
	if code := fn.post(t, "req-wire-1", "error", `not json`); code != http.StatusBadRequest {
		t.Errorf("malformed error body: %d, want 400", code)
	}
	if code := fn.post(t, "req-wire-1", "response", `{"ok":true}`); code != http.StatusOK {
		t.Errorf("result: %d, want 200", code)
	}
	if code := fn.post(t, "req-wire-1", "error", `{"errorMessage":"late","errorType":"X"}`); code != http.StatusConflict {
		t.Errorf("second result: %d, want 409", code)
	}
	a := <-results
	if a.err != nil || a.res.IsError || string(a.res.Payload) != `{"ok":true}` {
		t.Errorf("Invoke = %+v, %v", a.res, a.err)
	}
}

func TestSeveralOutstandingPollsEachGetOneInvocation(t *testing.T) {
	s, err := fcemu.New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fn := fakeFunction{base: "http://" + s.Addr() + "/2020-11-11/runtime/invocation/"}

	const polls = 3
	ids := make(chan string, polls)
	for range polls {
		go func() {
			h, body := fn.next(t)
			id := h.Get("x-fc-request-id")
			fn.post(t, id, "response", string(body))
			ids <- id // after the post, so the test outlives it
		}()
	}
	var wg sync.WaitGroup
	for i := range polls {
		wg.Go(func() {
			id := fmt.Sprintf("req-poll-%d", i)
			res, err := s.Invoke(context.Background(), fcemu.Invocation{Payload: []byte(id), RequestID: id, Timeout: 5 * time.Second})
			if err != nil || string(res.Payload) != id {
				t.Errorf("%s: %+v %v", id, res, err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range polls {
		seen[<-ids] = true
	}
	if len(seen) != polls {
		t.Errorf("polls received %v, want %d distinct invocations", seen, polls)
	}
}

func TestInvokeEndsWithContextOrClose(t *testing.T) {
	s, err := fcemu.New()
	if err != nil {
		t.Fatal(err)
	}
	// No function is polling: the invocation stays queued.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Invoke(ctx, fcemu.Invocation{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if s.Dispatched() != 0 {
		t.Errorf("Dispatched = %d with no function", s.Dispatched())
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.Invoke(context.Background(), fcemu.Invocation{})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	_ = s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, fcemu.ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Invoke did not return after Close")
	}
}

func TestInvokeRejectsBadOrDuplicateRequestIDs(t *testing.T) {
	s, err := fcemu.New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Invoke(context.Background(), fcemu.Invocation{RequestID: "a/b"}); err == nil {
		t.Error("a request ID with a slash was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = s.Invoke(ctx, fcemu.Invocation{RequestID: "req-dup"}) }()
	time.Sleep(50 * time.Millisecond)
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	if _, err := s.Invoke(short, fcemu.Invocation{RequestID: "req-dup"}); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second invocation with an in-flight ID: err = %v, want a refusal", err)
	}
}

func TestStoppedProcessExits(t *testing.T) {
	_, p := startEcho(t, fcemu.Config{})
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}
	if _, err := p.WaitForLine(time.Second, func(fcemu.Line) bool { return false }); !errors.Is(err, fcemu.ErrNoSuchLine) {
		t.Errorf("WaitForLine on an exited process: %v", err)
	}
}
