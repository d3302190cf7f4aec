package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json")

const (
	testToken  = "TOKEN0secret0token"
	testSecret = "SECsigning0secret"
)

// robot is an httptest server that checks one kind's format and signature
// as the robot documents them, then answers with status and body.
type robot struct {
	srv   *httptest.Server
	calls atomic.Int32
	bad   atomic.Value // string: what the last request got wrong
}

func newRobot(t *testing.T, kind Kind, answer func(n int32) (int, string)) *robot {
	t.Helper()
	rb := &robot{}
	rb.bad.Store("")
	rb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rb.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if why := checkRequest(kind, r, body); why != "" {
			rb.bad.Store(why)
		}
		status, text := answer(n)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}))
	t.Cleanup(rb.srv.Close)
	return rb
}

func (rb *robot) entry(kind Kind) string {
	u := string(kind) + "=" + rb.srv.URL + "/send?access_token=" + testToken
	if kind == DingTalk || kind == Lark || kind == Generic {
		u += "#" + testSecret
	}
	return u
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkRequest is what each robot checks: its body's shape and its
// signature, recomputed here from the documented recipe.
func checkRequest(kind Kind, r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return "not a JSON POST"
	}
	var b map[string]any
	if err := json.Unmarshal(body, &b); err != nil {
		return "body not JSON"
	}
	switch kind {
	case DingTalk:
		q := r.URL.Query()
		md, _ := b["markdown"].(map[string]any)
		if b["msgtype"] != "markdown" || md["title"] == "" || md["text"] == "" || q.Get("access_token") != testToken {
			return "not a DingTalk markdown message"
		}
		if q.Get("sign") != hmacB64(testSecret, q.Get("timestamp")+"\n"+testSecret) {
			return "DingTalk sign wrong"
		}
		if ms, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64); time.Since(time.UnixMilli(ms)).Abs() > time.Hour {
			return "DingTalk timestamp not in ms"
		}
	case Lark:
		ts, _ := b["timestamp"].(string)
		if b["msg_type"] != "interactive" || b["card"] == nil {
			return "not a Lark card"
		}
		if b["sign"] != hmacB64(ts+"\n"+testSecret, "") {
			return "Lark sign wrong"
		}
		if s, _ := strconv.ParseInt(ts, 10, 64); time.Since(time.Unix(s, 0)).Abs() > time.Hour {
			return "Lark timestamp not in s"
		}
	case WeCom:
		md, _ := b["markdown"].(map[string]any)
		if c, _ := md["content"].(string); b["msgtype"] != "markdown" || c == "" || len(c) > 4096 {
			return "not a WeCom markdown message"
		}
	case Slack:
		if t, _ := b["text"].(string); t == "" || len(b) != 1 {
			return "not a Slack text message"
		}
	case Generic:
		ts := r.Header.Get("X-Signature-Timestamp")
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte(ts + "." + string(body)))
		if r.Header.Get("X-Signature-256") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			return "generic signature wrong"
		}
		if b["RequestId"] != "req-1" || b["Summary"] == nil {
			return "not the Result JSON"
		}
	}
	return ""
}

func ok(kind Kind) func(int32) (int, string) {
	return func(int32) (int, string) {
		switch kind {
		case DingTalk, WeCom:
			return 200, `{"errcode":0,"errmsg":"ok"}`
		case Lark:
			return 200, `{"code":0,"msg":"success","data":{}}`
		case Slack:
			return 200, "ok"
		}
		return 204, ""
	}
}

func message(t testing.TB) *Message {
	m, err := NewMessage(fleet(10, 3), ctx0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// DESIGN §9: each robot gets its own format, signed as it documents; a
// robot that took the message gets no Report.
func TestSendEachKindFormattedAndSigned(t *testing.T) {
	var entries []string
	robots := map[Kind]*robot{}
	for _, k := range kinds {
		robots[k] = newRobot(t, k, ok(k))
		entries = append(entries, robots[k].entry(k))
	}
	targets, err := ParseURLs(strings.Join(entries, ","))
	if err != nil {
		t.Fatal(err)
	}
	if reports := Send(t.Context(), nil, targets, message(t)); len(reports) != 0 {
		t.Errorf("reports %+v", reports)
	}
	for k, rb := range robots {
		if rb.calls.Load() != 1 || rb.bad.Load() != "" {
			t.Errorf("%s: %d calls, %q", k, rb.calls.Load(), rb.bad.Load())
		}
	}
}

// DESIGN §9: a robot's own error code in a 200 answer is a failure with that
// code; a non-2xx is its status; one retry, for a 5xx only; nothing of a
// URL, token, secret or signature in a Report.
func TestSendFailuresAndRetry(t *testing.T) {
	cases := []struct {
		name   string
		kind   Kind
		answer func(int32) (int, string)
		code   string
		calls  int32
	}{
		{"DingTalk rate limit", DingTalk, fixed(200, `{"errcode":410100,"errmsg":"send too fast"}`), "410100", 1},
		{"Lark bad sign", Lark, fixed(200, `{"code":19021,"msg":"sign match fail"}`), "19021", 1},
		{"Lark old shape", Lark, fixed(200, `{"StatusCode":9499,"StatusMessage":"Bad Request"}`), "9499", 1},
		{"WeCom bad key", WeCom, fixed(200, `{"errcode":93000,"errmsg":"invalid webhook url"}`), "93000", 1},
		{"Slack word", Slack, fixed(200, "invalid_payload"), "invalid_payload", 1},
		{"Slack echo not quoted", Slack, fixed(200, "token "+testToken), CodeInvalidAnswer, 1},
		{"Slack 404", Slack, fixed(404, "no_service"), "404", 1},
		{"DingTalk HTML", DingTalk, fixed(200, "<html>"), CodeInvalidAnswer, 1},
		{"4xx not retried", Generic, fixed(403, ""), "403", 1},
		{"5xx twice", Generic, fixed(503, ""), "503", 2},
		{"5xx then ok", WeCom, func(n int32) (int, string) {
			if n == 1 {
				return 502, ""
			}
			return ok(WeCom)(n)
		}, "", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rb := newRobot(t, tc.kind, tc.answer)
			targets, err := ParseURLs(rb.entry(tc.kind))
			if err != nil {
				t.Fatal(err)
			}
			reports := Send(t.Context(), http.DefaultClient, targets, message(t))
			if got := rb.calls.Load(); got != tc.calls {
				t.Errorf("%d calls, want %d", got, tc.calls)
			}
			if tc.code == "" {
				if len(reports) != 0 {
					t.Errorf("reports %+v", reports)
				}
				return
			}
			if len(reports) != 1 || reports[0].Code != tc.code || reports[0].Host != "127.0.0.1" || reports[0].Kind != tc.kind {
				t.Fatalf("reports %+v, want one with code %q", reports, tc.code)
			}
			noSecrets(t, fmt.Sprintf("%v %+v %#v", reports, reports, targets))
		})
	}
}

func fixed(status int, body string) func(int32) (int, string) {
	return func(int32) (int, string) { return status, body }
}

func noSecrets(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{testToken, testSecret, "access_token", "sign=", "sha256="} {
		if strings.Contains(s, bad) {
			t.Errorf("%q holds %q", s, bad)
		}
	}
}

// DESIGN §9: every target at once, each bounded by the caller's context; a
// slow robot is "timeout", a closed one "unreachable", and neither holds up
// the others.
func TestSendInParallelWithinTheContext(t *testing.T) {
	release := make(chan struct{})
	slow := func(int32) (int, string) { <-release; return 200, "ok" }
	a, b := newRobot(t, Slack, slow), newRobot(t, Slack, slow)
	t.Cleanup(func() { close(release) })
	good := newRobot(t, DingTalk, ok(DingTalk))
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	targets, err := ParseURLs(strings.Join([]string{a.entry(Slack), good.entry(DingTalk), b.entry(Slack), "generic=" + downURL + "/x?token=" + testToken}, ","))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	reports := Send(ctx, http.DefaultClient, targets, message(t))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v: not bounded by the context", took)
	}
	got := map[string]int{}
	for _, r := range reports {
		got[string(r.Kind)+" "+r.Code]++
	}
	if len(reports) != 3 || got["slack timeout"] != 2 || got["generic unreachable"] != 1 {
		t.Errorf("reports %+v", reports)
	}
	if a.calls.Load() != 1 || b.calls.Load() != 1 || good.calls.Load() != 1 {
		t.Errorf("calls %d %d %d: not sent to every target", a.calls.Load(), b.calls.Load(), good.calls.Load())
	}
	noSecrets(t, fmt.Sprintf("%+v", reports))
}

// The samples in testdata are what each kind of robot receives for a small
// result (regenerate with -update); each must be valid JSON of its kind.
func TestSamplesInTestdata(t *testing.T) {
	now := time.Unix(1700000000, 123e6)
	m := message(t)
	for _, k := range kinds {
		tg := Target{Kind: k, Host: "example.com", url: "https://example.com/hook?access_token=TOKEN"}
		if k == DingTalk || k == Lark {
			tg.secret = "SECexample"
		}
		_, body, err := tg.payload(m, now)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		pretty = append(pretty, '\n')
		path := filepath.Join("testdata", string(k)+".json")
		if *update {
			if err := os.WriteFile(path, pretty, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(want) != string(pretty) {
			t.Errorf("%s differs from %s (rerun with -update if intended):\n%s", k, path, pretty)
		}
	}
}
