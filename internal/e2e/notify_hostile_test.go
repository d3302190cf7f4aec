package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// hostileRobots are receivers that misbehave each its own way, on one
// loopback server: a redirect (to a URL with a token of its own), a 10 MiB
// answer, an answer that is not JSON, a 502 every time (hits counts the
// requests), DingTalk's rate limit; and a host that takes the connection
// and never answers. Each path holds a token the log must never show.
func hostileRobots(t *testing.T) (entries []string, fiveXX *atomic.Int32) {
	t.Helper()
	fiveXX = new(atomic.Int32)
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example.com/steal?tok=redirect-target-token", http.StatusFound)
	})
	mux.HandleFunc("/huge/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"errcode":0,"pad":"` + strings.Repeat("huge-answer-token ", 600_000) + `"}`))
	})
	mux.HandleFunc("/badjson/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`<html>bad-answer-token</html>`)) })
	mux.HandleFunc("/five/", func(w http.ResponseWriter, _ *http.Request) {
		fiveXX.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	mux.HandleFunc("/rate/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ln, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }() // reads, never answers
		}
	}()
	return []string{
		"dingtalk=" + srv.URL + "/redirect/send?access_token=redirect-tok#SEC-redirect",
		"dingtalk=" + srv.URL + "/huge/send?access_token=huge-tok",
		"lark=" + srv.URL + "/badjson/hook/badjson-tok#SEC-lark",
		"wecom=" + srv.URL + "/five/send?key=five-key",
		"dingtalk=" + srv.URL + "/rate/send?access_token=rate-tok",
		"generic=http://" + ln.Addr().String() + "/hang/hang-tok#SEC-generic",
	}, fiveXX
}

// hostileSecrets are the tokens and secrets of hostileRobots and of the
// test's own robots: no line of the function's output may carry one.
var hostileSecrets = []string{"redirect-tok", "redirect-target-token", "SEC-", "huge-tok", "huge-answer-token", "badjson-tok",
	"bad-answer-token", "five-key", "rate-tok", "hang-tok", "notify-secret-value", "good-tok", "T03/B03", "access_token", "key="}

// DESIGN §9, against robots that misbehave: one message per invocation to
// each robot — a batch of queue messages is one invocation, one message —
// whatever the carrier (HTTP, an alarm callback, a queue batch, a request
// that waits on a throttled ECS); each robot that does not take it is one
// WARN notify line naming its host and code (302 for a redirect, never
// followed; "invalid answer" for a 10 MiB or non-JSON answer; 502 after its
// one retry; 130101 for DingTalk's rate limit; "timeout" for a host that
// never answers), and the answer keeps its time (HTTP_WAIT, or the deadline
// for a request that waits) and its status. No URL, token or secret reaches
// the log, whatever Go's errors quote. A request refused before a result
// (401, 400, 413) reaches no robot.
func TestNotifyHostileRobotsNeitherLeakNorDelay(t *testing.T) {
	t.Parallel()
	robots := robotServer(t,
		robotemu.Robot{Kind: robotemu.DingTalk, Token: "good-tok", Secret: "SEC-good"},
		robotemu.Robot{Kind: robotemu.Slack, Token: "T03/B03/slow"},
	)
	robots.SetFault("T03/B03/slow", robotemu.Fault{Delay: time.Minute})
	hostile, fiveXX := hostileRobots(t)
	urls := append([]string{"dingtalk=" + robots.URLFor(robotemu.DingTalk, "good-tok") + "#SEC-good",
		"slack=" + robots.URLFor(robotemu.Slack, "T03/B03/slow")}, hostile...)
	const httpWait = 3 * time.Second
	env := map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": httpWait.String(), "MAX_BODY_BYTES": "2000"}
	quiet := start(t, env, ecsemu.Options{})
	env["NOTIFY_URLS"], env["NOTIFY_SECRET"] = strings.Join(urls, ","), "notify-secret-value"
	h := start(t, env, ecsemu.Options{})

	// Each invocation: the good robot takes one message; the others are
	// one line each.
	wantCodes := map[string]int{"timeout": 2, "302": 1, "invalid answer": 2, "502": 1, "130101": 1}
	check := func(t *testing.T, out *harness.Outcome, from int, limit time.Duration) {
		t.Helper()
		if out.Duration > limit {
			t.Errorf("answered after %s, over %s", out.Duration, limit)
		}
		if acc := robotsAccepted(since(robots, from)); len(acc) != 1 || acc[0].Token != "good-tok" {
			t.Errorf("accepted %+v, want one message to the good robot", acc)
		}
		codes := map[string]int{}
		for _, l := range out.LogsOf("notify") {
			if l["level"] != "WARN" || l["host"] != "127.0.0.1" {
				t.Errorf("notify line %v", l)
			}
			code, _ := l["code"].(string)
			codes[code]++
		}
		for code, n := range wantCodes {
			if codes[code] != n {
				t.Errorf("notify lines by code %v, want %v", codes, wantCodes)
				break
			}
		}
	}
	invocations := int32(0)
	t.Run("http", func(t *testing.T) {
		n := len(robots.Messages())
		want := httpResult(t, invoke(t, quiet, httpEvent(unpaidRequest, bearer(), nil)))
		out := invoke(t, h, httpEvent(unpaidRequest, bearer(), nil))
		invocations++
		if got := httpResult(t, out); got.StatusCode != want.StatusCode || got.StatusCode != http.StatusMultiStatus {
			t.Errorf("status %d with robots, %d without", got.StatusCode, want.StatusCode)
		}
		check(t, out, n, httpWait+500*time.Millisecond)
	})
	t.Run("alarm callback", func(t *testing.T) {
		n := len(robots.Messages())
		form := "alertState=ALERT&dimensions=%7BinstanceId%3D" + unpaid + "%7D&regionId=cn-hangzhou&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
		out := invoke(t, h, httpEvent(form, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, map[string]string{"token": webhookSecret}))
		invocations++
		if got := httpResult(t, out); got.StatusCode != http.StatusMultiStatus {
			t.Errorf("status %d %s", got.StatusCode, got.Body)
		}
		check(t, out, n, httpWait+500*time.Millisecond)
	})
	t.Run("waits on a throttled ECS", func(t *testing.T) {
		// The request waits, so HTTP_WAIT does not bound it: the deadline
		// does, and the answer comes before it with its status unchanged.
		for _, x := range []*harness.Harness{h, quiet} {
			x.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 1 << 20})
			defer x.ECS.SetFaults(ecsemu.Faults{})
		}
		const timeout = 6 * time.Second
		body := `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"wait":true}`
		timed := func(i *fcemu.Invocation) { i.Timeout = timeout }
		n := len(robots.Messages())
		want := httpResult(t, invoke(t, quiet, httpEvent(body, bearer(), nil), timed))
		out := invoke(t, h, httpEvent(body, bearer(), nil), timed)
		invocations++
		if got := httpResult(t, out); got.StatusCode != want.StatusCode || got.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d with robots, %d without", got.StatusCode, want.StatusCode)
		}
		check(t, out, n, timeout)
	})
	t.Run("a batch of queue messages", func(t *testing.T) {
		n := len(robots.Messages())
		typo := `{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`
		batch := "[" + string(mnsEvent(unpaidRequest)) + "," + string(mnsEvent(typo)) + "," + string(mnsEvent(oneInstance)) + "]"
		out := invoke(t, h, []byte(batch), func(i *fcemu.Invocation) { i.Timeout = 5 * time.Second })
		invocations++
		check(t, out, n, 5*time.Second)
		if acc := robotsAccepted(since(robots, n)); len(acc) == 1 {
			for _, want := range []string{"+2 more", unpaid, "did you mean instanceIds?", "Mistakes 1"} {
				if !strings.Contains(acc[0].Text, want) {
					t.Errorf("the batch's message lacks %q:\n%s", want, acc[0].Text)
				}
			}
		}
	})
	t.Run("refused before a result", func(t *testing.T) {
		n := len(robots.Messages())
		for _, ev := range [][]byte{
			httpEvent(unpaidRequest, nil, nil),                                                                     // 401
			httpEvent(unpaidRequest, map[string]string{"Authorization": "Bearer wrong"}, nil),                      // 401
			httpEvent(`{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`, bearer(), nil),           // 400
			httpEvent(`{"regionId":"cn-hangzhou","instanceIds":["`+strings.Repeat("x", 3000)+`"]}`, bearer(), nil), // 413
		} {
			out := invoke(t, h, ev)
			if s := httpResult(t, out).StatusCode; s != 401 && s != 400 && s != 413 {
				t.Errorf("status %d", s)
			}
			if lines := out.LogsOf("notify"); len(lines) != 0 {
				t.Errorf("notify lines for a refused request: %v", lines)
			}
		}
		if got := since(robots, n); len(got) != 0 {
			t.Errorf("%d messages for requests refused before a result", len(got))
		}
	})
	// One retry, for a 5xx only: two requests an invocation.
	if got := fiveXX.Load(); got != 2*invocations {
		t.Errorf("the 502 robot was asked %d times in %d invocations, want %d", got, invocations, 2*invocations)
	}
	x := h.Fn.Output()
	if !strings.Contains(x, `"msg":"notify"`) {
		t.Fatalf("no notify line in the function's output: the search below would prove nothing")
	}
	for _, s := range hostileSecrets {
		if i := strings.Index(x, s); i >= 0 {
			t.Errorf("the output carries %q: …%s…", s, x[max(0, i-160):min(len(x), i+80)])
		}
	}
}
