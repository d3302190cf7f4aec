package fcemu_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/fcemu"
)

func startGateway(t *testing.T, cfg fcemu.Config, opts fcemu.GatewayOptions) (*fcemu.Server, *fcemu.Gateway, *httptest.Server) {
	t.Helper()
	s, _ := startEcho(t, cfg)
	gw := fcemu.NewHTTPGateway(s, opts)
	hs := httptest.NewServer(gw)
	// Cleanups run last-in first-out: the HTTP server, then the gateway's
	// background invocations, then (registered earlier) the function.
	t.Cleanup(gw.Close)
	t.Cleanup(hs.Close)
	return s, gw, hs
}

type httpAnswer struct {
	status int
	header http.Header
	body   []byte
}

func send(t *testing.T, req *http.Request) httpAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, b}
}

func post(t *testing.T, url, contentType string, body []byte, header ...string) httpAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return send(t, req)
}

// eventOf returns the event the echo function saw, from its HTTP answer.
func eventOf(t *testing.T, a httpAnswer) fcemu.HTTPEvent {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var ev fcemu.HTTPEvent
	if err := json.Unmarshal(decodeEcho(t, a.body).Event, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// keyShape lists every key path of a JSON object with its JSON kind, down
// through objects whose keys are fixed (headers and query parameters vary).
func keyShape(t *testing.T, raw []byte) []string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, val := range m {
			path := prefix + k
			kind := reflect.TypeOf(val).Kind().String()
			out = append(out, path+":"+kind)
			if sub, ok := val.(map[string]any); ok && k != "headers" && k != "queryParameters" {
				walk(path+".", sub)
			}
		}
	}
	walk("", v)
	sort.Strings(out)
	return out
}

func TestGatewayEventMatchesThePlatformsShape(t *testing.T) {
	_, _, hs := startGateway(t, fcemu.Config{AccountID: "1430000000000149", Region: "cn-huhehaote"}, fcemu.GatewayOptions{})

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, hs.URL+"/hook/a%20b?x=1&x=2&y=3", strings.NewReader(`{"hello":"gateway"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fcemu-test/1.0")
	req.Header.Add("X-Multi", "v1")
	req.Header.Add("X-Multi", "v2")
	before := time.Now()
	a := send(t, req)
	if a.header.Get("X-Echo") != "1" || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("the function's response headers were not applied: %v", a.header)
	}
	e := decodeEcho(t, a.body)

	sample, err := os.ReadFile("testdata/fc3-template-http.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keyShape(t, e.Event), keyShape(t, sample); !reflect.DeepEqual(got, want) {
		t.Errorf("event keys:\n got %v\nwant %v", got, want)
	}

	ev := eventOf(t, a)
	rc := ev.RequestContext
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "v1"},
		{"rawPath", ev.RawPath, "/hook/a%20b"},
		{"http.path", rc.HTTP.Path, "/hook/a b"},
		{"body", ev.Body, `{"hello":"gateway"}`},
		{"isBase64Encoded", strconv.FormatBool(ev.IsBase64Encoded), "false"},
		{"query x", ev.QueryParameters["x"], "1,2"},
		{"query y", ev.QueryParameters["y"], "3"},
		{"header X-Multi", ev.Headers["X-Multi"], "v1,v2"},
		{"header Content-Type", ev.Headers["Content-Type"], "application/json"},
		{"header Content-Length", ev.Headers["Content-Length"], ""},
		{"accountId", rc.AccountID, "1430000000000149"},
		{"domainName", rc.DomainName, "fcemu-http-trigger.cn-huhehaote.fcapp.run"},
		{"domainPrefix", rc.DomainPrefix, "fcemu-http-trigger"},
		{"requestId", rc.RequestID, a.header.Get("X-Fc-Request-Id")},
		{"requestId (function's)", rc.RequestID, e.RequestID},
		{"method", rc.HTTP.Method, "POST"},
		{"protocol", rc.HTTP.Protocol, "HTTP/1.1"},
		{"sourceIp", rc.HTTP.SourceIP, "127.0.0.1"},
		{"userAgent", rc.HTTP.UserAgent, "fcemu-test/1.0"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if rc.RequestID == "" {
		t.Error("empty request ID")
	}
	ms, err := strconv.ParseInt(rc.TimeEpoch, 10, 64)
	if err != nil {
		t.Fatalf("timeEpoch %q: %v", rc.TimeEpoch, err)
	}
	if at := time.UnixMilli(ms); at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
		t.Errorf("timeEpoch %s is not the request's time", at)
	}
	if want := time.UnixMilli(ms).UTC().Format(time.RFC3339); rc.Time != want {
		t.Errorf("time = %q, want %q (timeEpoch in RFC 3339)", rc.Time, want)
	}
}

func TestGatewayClockSetsTheEventTime(t *testing.T) {
	past := time.Date(2024, 3, 1, 8, 0, 0, 123e6, time.UTC)
	_, _, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{Clock: func() time.Time { return past }})
	ev := eventOf(t, post(t, hs.URL+"/", "application/json", []byte(`{}`)))
	if ev.RequestContext.TimeEpoch != "1709280000123" || ev.RequestContext.Time != "2024-03-01T08:00:00Z" {
		t.Errorf("time %q / %q", ev.RequestContext.Time, ev.RequestContext.TimeEpoch)
	}
}

func TestGatewayBodyEncoding(t *testing.T) {
	binary := []byte{0xff, 0x00, 0x81, 'x'}
	for _, tc := range []struct {
		name        string
		forced      []string
		contentType string
		body        []byte
		wantBase64  bool
	}{
		// FC's own sample: an octet-stream body that is text arrives as text.
		{"octet-stream text", nil, "application/octet-stream", []byte("haha"), false},
		{"invalid UTF-8", nil, "application/octet-stream", binary, true},
		{"invalid UTF-8 claiming text", nil, "text/plain", binary, true},
		{"forced content type", []string{"application/octet-stream"}, "application/octet-stream; charset=x", []byte("haha"), true},
		{"forced type, other type", []string{"application/octet-stream"}, "application/json", []byte(`{"a":1}`), false},
		{"empty body", nil, "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{Base64ContentTypes: tc.forced})
			ev := eventOf(t, post(t, hs.URL+"/upload", tc.contentType, tc.body))
			if ev.IsBase64Encoded != tc.wantBase64 {
				t.Fatalf("isBase64Encoded = %v, want %v", ev.IsBase64Encoded, tc.wantBase64)
			}
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				var err error
				if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, tc.body) {
				t.Errorf("body %q, want %q", got, tc.body)
			}
		})
	}
}

func TestGatewayConvertsTheFunctionsAnswer(t *testing.T) {
	_, _, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{})
	for _, tc := range []struct {
		name        string
		respond     string
		wantStatus  int
		wantHeaders map[string]string
		wantBody    string
	}{
		{
			name:        "full response",
			respond:     `{"statusCode":201,"headers":{"X-Foo":"bar","Content-Type":"text/plain"},"isBase64Encoded":false,"body":"created"}`,
			wantStatus:  201,
			wantHeaders: map[string]string{"X-Foo": "bar", "Content-Type": "text/plain"},
			wantBody:    "created",
		},
		{
			name:        "base64 body",
			respond:     `{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}) + `"}`,
			wantStatus:  200,
			wantHeaders: map[string]string{"Content-Type": "application/octet-stream"},
			wantBody:    string([]byte{0, 1, 2, 0xff}),
		},
		{
			name:        "status only: no content type is made up",
			respond:     `{"statusCode":503,"headers":{"Retry-After":5}}`,
			wantStatus:  503,
			wantHeaders: map[string]string{"Retry-After": "5", "Content-Type": ""},
			wantBody:    "",
		},
		{
			name:        "an object without statusCode is the body",
			respond:     `{"hello":"world"}`,
			wantStatus:  200,
			wantHeaders: map[string]string{"Content-Type": "application/json"},
			wantBody:    `{"hello":"world"}`,
		},
		{
			name:       "a string answer is the body",
			respond:    `"just text"`,
			wantStatus: 200,
			wantBody:   `"just text"`,
		},
		{
			name:       "a statusCode that is not a number is no HTTP response",
			respond:    `{"statusCode":"201","body":"x"}`,
			wantStatus: 200,
			wantBody:   `{"statusCode":"201","body":"x"}`,
		},
		{
			name:        "isBase64Encoded with a body that is not base64",
			respond:     `{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}`,
			wantStatus:  http.StatusBadGateway,
			wantHeaders: map[string]string{"X-Fc-Error-Type": "UnhandledInvocationError"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, hs.URL+"/", "application/json", []byte(`{"respond":`+tc.respond+`}`))
			if a.status != tc.wantStatus {
				t.Errorf("status %d, want %d (body %s)", a.status, tc.wantStatus, a.body)
			}
			for k, v := range tc.wantHeaders {
				if got := a.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.wantStatus < 500 && string(a.body) != tc.wantBody {
				t.Errorf("body %q, want %q", a.body, tc.wantBody)
			}
			if a.header.Get("X-Fc-Request-Id") == "" {
				t.Error("no X-Fc-Request-Id")
			}
		})
	}
}

func TestGatewayFunctionErrorAndTimeout(t *testing.T) {
	_, _, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{Timeout: time.Second})
	for _, tc := range []struct {
		name, body, wantMessage, wantType string
	}{
		{"error", `{"fail":"kaput"}`, "kaput", "errorString"},
		{"timeout", `{"sleepMs":1500}`, "Function time out after 1 seconds", "FunctionTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, hs.URL+"/", "application/json", []byte(tc.body))
			if a.status != http.StatusBadGateway || a.header.Get("X-Fc-Error-Type") != "UnhandledInvocationError" {
				t.Errorf("status %d, X-Fc-Error-Type %q", a.status, a.header.Get("X-Fc-Error-Type"))
			}
			var eb struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(a.body, &eb); err != nil {
				t.Fatalf("body %s: %v", a.body, err)
			}
			if eb.ErrorMessage != tc.wantMessage || eb.ErrorType != tc.wantType {
				t.Errorf("error %+v, want %q / %q", eb, tc.wantMessage, tc.wantType)
			}
		})
	}
}

func TestGatewayBodyLimit(t *testing.T) {
	s, _, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{MaxBodyBytes: 16, AsyncMaxBodyBytes: 8})
	if a := post(t, hs.URL+"/", "text/plain", bytes.Repeat([]byte("a"), 17)); a.status != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(a.body), `"Code":"EntityTooLarge"`) {
		t.Errorf("17 bytes over a 16-byte limit: status %d, body %s", a.status, a.body)
	}
	if a := post(t, hs.URL+"/", "text/plain", bytes.Repeat([]byte("a"), 9), "X-Fc-Invocation-Type", "Async"); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("9 bytes over an 8-byte async limit: status %d", a.status)
	}
	if n := s.Dispatched(); n != 0 {
		t.Errorf("refused bodies reached the function %d times", n)
	}
	if a := post(t, hs.URL+"/", "text/plain", bytes.Repeat([]byte("a"), 16)); a.status != http.StatusOK {
		t.Errorf("16 bytes: status %d", a.status)
	}
}

func TestGatewayAsyncAnswers202AndRecordsTheResult(t *testing.T) {
	_, gw, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{})
	start := time.Now()
	a := post(t, hs.URL+"/", "application/json", []byte(`{"sleepMs":800}`), "X-Fc-Invocation-Type", "Async")
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("the 202 took %s: the gateway waited for the function", elapsed)
	}
	if a.status != http.StatusAccepted || len(a.body) != 0 {
		t.Fatalf("status %d body %q, want 202 and no body", a.status, a.body)
	}
	id := a.header.Get("X-Fc-Request-Id")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := gw.WaitAsync(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Done || !rec.Succeeded() || len(rec.Attempts) != 1 {
		t.Fatalf("record %+v", rec)
	}
	// An HTTP trigger response that wraps the echo.
	var resp fcemu.HTTPResponse
	if err := json.Unmarshal(rec.Final().Result.Payload, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("payload %s (%v)", rec.Final().Result.Payload, err)
	}
	e := decodeEcho(t, []byte(resp.Body))
	if e.RequestID != id || rec.Event.Headers["X-Fc-Invocation-Type"] != "Async" {
		t.Errorf("echo request %q, want %q; event headers %v", e.RequestID, id, rec.Event.Headers)
	}
	if recs := gw.AsyncRecords(); len(recs) != 1 || recs[0].RequestID != id {
		t.Errorf("AsyncRecords = %+v", recs)
	}
}

func TestGatewayAsyncRetries(t *testing.T) {
	for _, tc := range []struct {
		name          string
		maxRetries    int
		body          string
		wantAttempts  int
		wantSucceeded bool
	}{
		{"succeeds on the third try", 3, `{"failUntilRetry":2}`, 3, true},
		{"gives up after the retries", 1, `{"fail":"always"}`, 2, false},
		{"no retries by default", 0, `{"fail":"always"}`, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, gw, hs := startGateway(t, fcemu.Config{}, fcemu.GatewayOptions{AsyncMaxRetries: tc.maxRetries, AsyncRetryDelay: 10 * time.Millisecond})
			a := post(t, hs.URL+"/", "application/json", []byte(tc.body), "x-fc-invocation-type", "async")
			if a.status != http.StatusAccepted {
				t.Fatalf("status %d", a.status)
			}
			id := a.header.Get("X-Fc-Request-Id")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rec, err := gw.WaitAsync(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Attempts) != tc.wantAttempts || rec.Succeeded() != tc.wantSucceeded {
				t.Fatalf("%d attempts, succeeded %v; want %d, %v", len(rec.Attempts), rec.Succeeded(), tc.wantAttempts, tc.wantSucceeded)
			}
			for i, at := range rec.Attempts {
				if at.RetryCount != i || at.Err != nil || at.Result.RequestID != id {
					t.Errorf("attempt %d: %+v", i, at)
				}
			}
			if tc.wantSucceeded {
				var resp fcemu.HTTPResponse
				if err := json.Unmarshal(rec.Final().Result.Payload, &resp); err != nil {
					t.Fatal(err)
				}
				if e := decodeEcho(t, []byte(resp.Body)); e.RetryCount != tc.wantAttempts-1 {
					t.Errorf("the function saw retry count %d", e.RetryCount)
				}
			}
		})
	}
}
