package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/notify"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// DESIGN §6, §9: NOTIFY_URLS, NOTIFY_ON and NOTIFY_SECRET are read with
// the other variables; a bad value is a configuration error naming its
// variable, and never repeats a URL, a token or a secret.
func TestConfigNotifyVariables(t *testing.T) {
	c, err := ConfigFromEnv(envOf(map[string]string{
		"NOTIFY_URLS":   "https://oapi.dingtalk.com/robot/send?access_token=tok123#SECabc, https://hooks.example.com/start-ecs",
		"NOTIFY_ON":     "Always",
		"NOTIFY_SECRET": "generic-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.NotifyTargets) != 2 || c.NotifyTargets[0].Kind != notify.DingTalk || c.NotifyTargets[1].Kind != notify.Generic ||
		c.NotifyTargets[1].NeedsSecret() || c.NotifyOn != notify.OnAlways {
		t.Fatalf("targets %v, on %q", c.NotifyTargets, c.NotifyOn)
	}
	if d, _ := ConfigFromEnv(envOf(nil)); d.NotifyOn != notify.OnProblems || d.NotifyTargets != nil {
		t.Fatalf("defaults: on %q, targets %v", d.NotifyOn, d.NotifyTargets)
	}
	const token, secret = "tok-ABCDEFGH", "SEC-PQRSTUVW"
	for _, tc := range []struct{ name, value, secret, names string }{
		{"NOTIFY_ON", "sometimes", "", "NOTIFY_ON"},
		{"NOTIFY_URLS", "http://oapi.dingtalk.com/robot/send?access_token=" + token + "#" + secret, "", "NOTIFY_URLS"},
		{"NOTIFY_URLS", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + token + "#" + secret, "", "NOTIFY_URLS"},
		{"NOTIFY_URLS", "pager=https://x.example.com/" + token, "", "NOTIFY_URLS"},
		{"NOTIFY_URLS", "https://oapi.dingtalk.com/robot/send?access_token=" + token + "#" + secret + ",https://oapi.dingtalk.com/robot/send?access_token=" + token + "#SECother", "", "NOTIFY_URLS"},
		// A generic target is sent signed: without NOTIFY_SECRET or a
		// secret of its own, the error names both.
		{"NOTIFY_URLS", "https://hooks.example.com/" + token, "", "NOTIFY_SECRET"},
	} {
		env := map[string]string{tc.name: tc.value}
		if tc.secret != "" {
			env["NOTIFY_SECRET"] = tc.secret
		}
		_, err := ConfigFromEnv(envOf(env))
		if err == nil || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("%s=%q: error %v does not name %s", tc.name, tc.value, err, tc.names)
			continue
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats a token or secret: %v", tc.name, err)
		}
	}
}

// DESIGN §9: with NOTIFY_URLS set, ECS work stops 1.5 s earlier: before
// the deadline's margin, and before HTTP_WAIT for an HTTP caller, so that
// the message goes out before the answer is due. Without robots, or with
// NOTIFY_ON=never, nothing is reserved.
func TestNotifyReservesTimeBeforeTheAnswer(t *testing.T) {
	robots := "dingtalk=http://127.0.0.1:1/robot/send?access_token=t"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		reserve time.Duration
	}{
		{"no robots", map[string]string{}, 0},
		{"NOTIFY_URLS", map[string]string{"NOTIFY_URLS": robots}, NotifyReserve},
		{"NOTIFY_ON never", map[string]string{"NOTIFY_URLS": robots, "NOTIFY_ON": "never"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := testHandler(t, tc.env, ecsapitest.NewFleet(nil).ECS())
			inv := testInvocation(h)
			inv.deadline = time.Now().Add(60 * time.Second)
			for _, wait := range []time.Time{{}, time.Now().Add(4 * time.Second)} {
				by, end := h.answerBy(inv, wait), h.workEnd(inv, wait)
				if got := by.Sub(end); got < tc.reserve-50*time.Millisecond || got > tc.reserve+50*time.Millisecond {
					t.Errorf("wait %v: work ends %s before the answer, want %s", !wait.IsZero(), got, tc.reserve)
				}
				if !wait.IsZero() && by.After(wait) {
					t.Errorf("an HTTP caller is answered after HTTP_WAIT")
				}
			}
		})
	}
	// A short timeout keeps time for ECS: at most half of what is left
	// before the answer goes to the message.
	h, _ := testHandler(t, map[string]string{"NOTIFY_URLS": robots}, ecsapitest.NewFleet(nil).ECS())
	inv := testInvocation(h)
	inv.deadline = time.Now().Add(time.Second)
	if left := time.Until(h.workEnd(inv, time.Time{})); left < 350*time.Millisecond {
		t.Errorf("a 1 s timeout leaves %s for ECS", left)
	}
}

// DESIGN §9 with the margin's rule (answerBy): the time kept for the
// message is fixed from the invocation's start — half of its time until
// the answer when that is short — not from the time left when asked, so
// planning and the ECS work, asked at different moments, end at the same
// time, and the message keeps its share however long planning took.
func TestNotifyReserveFixedFromTheStart(t *testing.T) {
	h, _ := testHandler(t, map[string]string{"NOTIFY_URLS": "dingtalk=http://127.0.0.1:1/robot/send?access_token=t", "HTTP_WAIT": "2s"},
		ecsapitest.NewFleet(nil).ECS())
	inv := testInvocation(h)
	inv.deadline = time.Now().Add(time.Minute)
	// HTTP_WAIT 2 s: a second for ECS, a second for the message, asked at
	// the start or 0.8 s later.
	for _, elapsed := range []time.Duration{0, 800 * time.Millisecond} {
		inv.Start = time.Now().Add(-elapsed)
		wait := inv.Start.Add(2 * time.Second)
		if got := h.answerBy(inv, wait).Sub(h.workEnd(inv, wait)); got != time.Second {
			t.Errorf("asked %s after the start: %s kept for the message, want 1s", elapsed, got)
		}
	}
}

// notifyLines are the invocation's notify lines.
func notifyLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(logs.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil && m["msg"] == "notify" {
			out = append(out, m)
		}
	}
	return out
}

// DESIGN §9: one message per invocation to every robot at once; a robot
// that fails (its status, its own code, a timeout) is one WARN notify line
// naming its host and code, after its retry, and never changes the
// result; one that took the message gets none. No line carries the token
// or the secret.
func TestNotifySendsOnceAndReportsEachFailingRobot(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Robots: []robotemu.Robot{
		{Kind: robotemu.DingTalk, Token: "ok-token", Secret: "SEC-ok"},
		{Kind: robotemu.WeCom, Token: "limited-key"},
		{Kind: robotemu.Slack, Token: "T0/B0/down"},
	}})
	robots.Start()
	defer robots.Close()
	robots.SetFault("limited-key", robotemu.Fault{Code: 45009, Msg: "api freq out of limit"})
	robots.SetFault("T0/B0/down", robotemu.Fault{Status: 503})
	urls := "dingtalk=" + robots.URLFor(robotemu.DingTalk, "ok-token") + "#SEC-ok," +
		"wecom=" + robots.URLFor(robotemu.WeCom, "limited-key") + "," +
		"slack=" + robots.URLFor(robotemu.Slack, "T0/B0/down")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-notify0001"}))
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "NOTIFY_URLS": urls}, fl.ECS())
	// No credentials: the instance fails (MissingCredentials), a problem.
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-notify", Region: "cn-hangzhou"})
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := h.Handle(ctx, []byte(`{"instanceIds":["i-notify0001"]}`))
	if err != nil || !strings.Contains(string(out), `"Failed":1`) {
		t.Fatalf("%s %v", out, err)
	}
	got := map[string]int{}
	for _, m := range robots.Messages() {
		got[string(m.Kind)]++
	}
	// One message each; the slack robot answered 503 and was tried twice.
	if got["dingtalk"] != 1 || got["wecom"] != 1 || got["slack"] != 2 {
		t.Fatalf("messages per robot: %v", got)
	}
	if acc := robots.Accepted(); len(acc) != 1 || !acc[0].SignatureOK || !strings.Contains(acc[0].Text, "i-notify0001") {
		t.Fatalf("accepted %+v", acc)
	}
	lines := notifyLines(t, logs)
	codes := map[string]string{}
	for _, l := range lines {
		if l["level"] != "WARN" || l["host"] != "127.0.0.1" {
			t.Errorf("notify line %v", l)
		}
		codes[l["kind"].(string)] = l["code"].(string)
	}
	if len(lines) != 2 || codes["wecom"] != "45009" || codes["slack"] != "503" {
		t.Fatalf("notify lines %v, want one for wecom (45009) and one for slack (503)", lines)
	}
	for _, s := range []string{"ok-token", "SEC-ok", "limited-key", "T0/B0"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log carries %q", s)
		}
	}
}

// DESIGN §9: NOTIFY_ON problems (the default) tells a problem and not an
// invocation where all went well; always tells both; never neither. A
// configuration error is a problem: every invocation fails with it, and
// the robots hear of it.
func TestNotifyOnEachValue(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	url := "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t")
	creds := fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}
	for _, tc := range []struct {
		on         string
		good, fail int // messages for a started instance, and for one that fails
	}{{"", 0, 1}, {"problems", 0, 1}, {"always", 1, 1}, {"never", 0, 0}} {
		t.Run("NOTIFY_ON="+tc.on, func(t *testing.T) {
			fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-notify0001"}))
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "NOTIFY_URLS": url, "NOTIFY_ON": tc.on}, fl.ECS())
			for _, c := range []struct {
				creds fccontext.Credentials
				want  int
			}{{creds, tc.good}, {fccontext.Credentials{}, tc.fail}} {
				before := len(robots.Messages())
				ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "r", Credentials: c.creds})
				fl.Set("i-notify0001", "Stopped")
				if _, err := h.Handle(ctx, []byte(`{"instanceIds":["i-notify0001"]}`)); err != nil {
					t.Fatal(err)
				}
				if n := len(robots.Messages()) - before; n != c.want {
					t.Errorf("credentials %v: %d messages, want %d", c.creds.AccessKeyId != "", n, c.want)
				}
			}
		})
	}
	cfg, cfgErr := ConfigFromEnv(envOf(map[string]string{"NOTIFY_URLS": url, "MAX_INSTANCES": "many"}))
	if cfgErr == nil {
		t.Fatal("MAX_INSTANCES=many accepted")
	}
	h := New(cfg, cfgErr, ecsapitest.NewFleet(nil).ECS(), &bytes.Buffer{})
	before := len(robots.Messages())
	if _, err := h.Handle(context.Background(), []byte(`{}`)); err == nil {
		t.Fatal("no configuration error")
	}
	msgs := robots.Messages()[before:]
	if len(msgs) != 1 || !strings.Contains(msgs[0].Title, "configuration error") || !strings.Contains(msgs[0].Text, "MAX_INSTANCES") {
		t.Fatalf("messages for a configuration error: %+v", msgs)
	}
}

// DESIGN §9, the calendar: while SKIP_DATES holds no date more than 30
// days ahead, notifications carry "the holiday calendar ends on <its last
// date>"; a calendar that reaches further is not mentioned.
func TestNotifyCarriesTheCalendarNote(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		dates string
		note  bool
	}{{"2026-10-11", true}, {"2026-10-11,2027-01-01", false}} {
		fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-notify0001"}))
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "SKIP_DATES": tc.dates,
			"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t")}, fl.ECS())
		h.now = func() time.Time { return now }
		before := len(robots.Messages())
		// No credentials: the instance fails, a problem to tell.
		if _, err := h.Handle(context.Background(), []byte(`{"instanceIds":["i-notify0001"]}`)); err != nil {
			t.Fatal(err)
		}
		msgs := robots.Messages()[before:]
		if len(msgs) != 1 {
			t.Fatalf("SKIP_DATES=%s: %d messages", tc.dates, len(msgs))
		}
		if got := strings.Contains(msgs[0].Text, "the holiday calendar ends on 2026-10-11"); got != tc.note {
			t.Errorf("SKIP_DATES=%s: note shown %v, want %v:\n%s", tc.dates, got, tc.note, msgs[0].Text)
		}
	}
}

// DESIGN §9: an HTTP request refused before a result is told to its caller
// alone — an unauthenticated sender must not reach the group. That holds
// while the configuration is invalid too: every invocation fails with the
// error, but only a timer, a direct invoke or an HTTP caller that
// authenticates (under what of the configuration parsed) tells the robots.
func TestNotifyConfigErrorNotToldForAnUnauthenticatedHTTPCaller(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	cfg, cfgErr := ConfigFromEnv(envOf(map[string]string{"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t"),
		"MAX_INSTANCES": "many", "WEBHOOK_SECRET": authTestSecret}))
	if cfgErr == nil {
		t.Fatal("MAX_INSTANCES=many accepted")
	}
	h := New(cfg, cfgErr, ecsapitest.NewFleet(nil).ECS(), &bytes.Buffer{})
	for _, tc := range []struct {
		name    string
		payload []byte
		want    int
	}{
		{"http, no credential", authEvent(t, `{}`, nil, nil), 0},
		{"http, a wrong bearer", authEvent(t, `{}`, map[string]string{"Authorization": "Bearer nope"}, nil), 0},
		{"http, a wrong token", authEvent(t, `{}`, nil, map[string]string{"token": "nope"}), 0},
		{"http, the bearer", authEvent(t, `{}`, map[string]string{"Authorization": "Bearer " + authTestSecret}, nil), 1},
		{"http, signed", authEvent(t, `{}`, signedHeaders(authTestSecret, `{}`), nil), 1},
		{"timer", []byte(`{"triggerTime":"2026-12-07T08:00:00Z","triggerName":"t","payload":"{}"}`), 1},
		{"direct", []byte(`{}`), 1},
	} {
		before := len(robots.Messages())
		if _, err := h.Handle(context.Background(), tc.payload); err == nil {
			t.Fatalf("%s: no configuration error", tc.name)
		}
		if n := len(robots.Messages()) - before; n != tc.want {
			t.Errorf("%s: %d messages, want %d", tc.name, n, tc.want)
		}
	}
}

// DESIGN §9: instances that did not start while everything looked fine must
// reach a person. A timer's or a direct invoke's request refused whole
// (TooManyInstances over MAX_INSTANCES: nothing of it was sent, no instance
// of its own in the answer, no error) is a problem under NOTIFY_ON's
// default: one message, naming the refusal.
func TestNotifyRequestRefusedWholeIsAProblem(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	ids := []string{"i-notify0001", "i-notify0002", "i-notify0003"}
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(ids))
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": "2",
		"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t")}, fl.ECS())
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-refused",
		Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
	for _, payload := range []string{
		`{"instanceIds":["i-notify0001","i-notify0002","i-notify0003"]}`,
		`{"triggerTime":"` + time.Now().UTC().Format(time.RFC3339) + `","triggerName":"morning","payload":"{\"instanceIds\":[\"i-notify0001\",\"i-notify0002\",\"i-notify0003\"]}"}`,
	} {
		before := len(robots.Messages())
		out, err := h.Handle(ctx, []byte(payload))
		if err != nil || !strings.Contains(string(out), `"TooManyInstances"`) || !strings.Contains(string(out), `"Requested":0`) {
			t.Fatalf("%s %v", out, err)
		}
		msgs := robots.Messages()[before:]
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "TooManyInstances") {
			t.Errorf("%s: messages %+v, want one naming TooManyInstances", payload, msgs)
		}
	}
}

// DESIGN §6, §9: invocations the runtime runs at once in one process each
// get their own message, naming their own instance and request and no
// other's, and their own notify lines (run with -race).
func TestNotifyConcurrentInvocationsEachTheirOwnMessage(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	robots.SetFault("down", robotemu.Fault{Status: 503})
	var ids []string
	for i := range 8 {
		ids = append(ids, fmt.Sprintf("i-notify%04d", i))
	}
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(ids))
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou",
		"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + ",wecom=" + robots.URLFor(robotemu.WeCom, "down")}, fl.ECS())
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			// No credentials: each instance fails, a problem to tell.
			ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: fmt.Sprintf("req-%d", i)})
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if _, err := h.Handle(ctx, []byte(`{"instanceIds":["`+id+`"]}`)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, m := range robots.Messages() {
		if m.Kind != robotemu.DingTalk {
			continue
		}
		var named []string
		for i, id := range ids {
			if strings.Contains(m.Text, id) {
				named = append(named, id)
				if !strings.Contains(m.Text, fmt.Sprintf(`requestId: "req-%d"`, i)) {
					t.Errorf("the message of %s carries another request's query:\n%s", id, m.Text)
				}
			}
		}
		if len(named) != 1 || seen[named[0]] {
			t.Errorf("a message names %v (seen before: %v)", named, seen)
			continue
		}
		seen[named[0]] = true
	}
	if len(seen) != len(ids) {
		t.Errorf("%d instances told, want %d", len(seen), len(ids))
	}
	lines := notifyLines(t, logs)
	reqs := map[any]int{}
	for _, l := range lines {
		reqs[l["requestId"]]++
	}
	if len(lines) != len(ids) || len(reqs) != len(ids) {
		t.Errorf("%d notify lines over %d requests, want one per invocation: %v", len(lines), len(reqs), reqs)
	}
}

// DESIGN §9: a message carries "the SLS query that finds the invocation's
// lines" — a query that finds something. Without a request ID (no FC
// context, as in a local run) there is no SLS line in any robot's text and
// no LogQuery in the generic body; with one, the query names it.
func TestNotifyNoSLSLineWithoutARequestID(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	kinds := []robotemu.Kind{robotemu.DingTalk, robotemu.Lark, robotemu.WeCom, robotemu.Slack, robotemu.Generic}
	var urls []string
	for _, k := range kinds {
		u := robots.URLFor(k, "t")
		if k == robotemu.Generic {
			u = robots.URL() + "/generic"
		}
		urls = append(urls, string(k)+"="+u)
	}
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-notify0001"}))
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "NOTIFY_SECRET": "notify-secret-for-tests",
		"NOTIFY_URLS": strings.Join(urls, ",")}, fl.ECS())
	for _, tc := range []struct {
		name, requestID string
	}{{"no request ID", ""}, {"a request ID", "req-sls"}} {
		ctx := context.Background()
		if tc.requestID != "" {
			ctx = fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: tc.requestID})
		}
		before := len(robots.Messages())
		// No credentials: the instance fails, a problem to tell.
		if _, err := h.Handle(ctx, []byte(`{"instanceIds":["i-notify0001"]}`)); err != nil {
			t.Fatal(err)
		}
		msgs := robots.Messages()[before:]
		if len(msgs) != len(kinds) {
			t.Fatalf("%s: %d messages, want %d", tc.name, len(msgs), len(kinds))
		}
		for _, m := range msgs {
			text := m.Text
			if m.Kind == robotemu.Generic {
				text = string(m.Body)
			}
			hasQuery := strings.Contains(text, "SLS: ") || strings.Contains(text, `"LogQuery"`)
			if tc.requestID == "" && (hasQuery || strings.Contains(text, `requestId: \"\"`) || strings.Contains(text, `requestId: ""`)) {
				t.Errorf("%s, %s: a query that finds nothing:\n%s", tc.name, m.Kind, text)
			}
			if tc.requestID != "" && !hasQuery {
				t.Errorf("%s, %s: no SLS query:\n%s", tc.name, m.Kind, text)
			}
		}
	}
}

// DESIGN §9 and §5 (Skipped: "Message naming that group and its first
// failure"): a message says why an instance was Skipped — which group
// stopped the sequence and how — once per reason, not on every line, within
// the 20 instances and MaxChars; the cause's own line is there too.
func TestNotifySaysWhySkippedOnce(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	const missing = "i-skipwhy00099" // unknown to ECS: Failed, stops the sequence
	later := []string{"i-skipwhy00001", "i-skipwhy00002", "i-skipwhy00003", "i-skipwhy00004"}
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(later))
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou",
		"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + ",slack=" + robots.URLFor(robotemu.Slack, "t")}, fl.ECS())
	body := fmt.Sprintf(`{"sequence":[{"instanceIds":[%q]},{"instanceIds":%s}]}`, missing, mustMarshal(t, later))
	for _, carrier := range []struct {
		name    string
		payload string
	}{
		{"direct", body},
		{"timer", `{"triggerTime":"` + time.Now().UTC().Format(time.RFC3339) + `","triggerName":"morning","payload":` + strconv.Quote(body) + `}`},
	} {
		before := len(robots.Messages())
		if _, err := h.Handle(invContext(context.Background(), "req-skip"), []byte(carrier.payload)); err != nil {
			t.Fatal(err)
		}
		msgs := robots.Messages()[before:]
		if len(msgs) != 2 {
			t.Fatalf("%s: %d messages, want 2", carrier.name, len(msgs))
		}
		for _, m := range msgs {
			if n := strings.Count(m.Text, "SequenceStopped"); n != len(later) {
				t.Errorf("%s, %s: %d Skipped lines, want %d:\n%s", carrier.name, m.Kind, n, len(later), m.Text)
			}
			if n := strings.Count(m.Text, "sequence[0] stopped the sequence"); n != 1 {
				t.Errorf("%s, %s: the reason said %d times, want once:\n%s", carrier.name, m.Kind, n, m.Text)
			}
			if n := strings.Count(m.Text, missing); n < 2 { // its own line, and in the reason
				t.Errorf("%s, %s: the failure that stopped the sequence named %d times:\n%s", carrier.name, m.Kind, n, m.Text)
			}
		}
	}
}
