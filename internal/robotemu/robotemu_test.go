package robotemu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// epoch is the clock's start: 1700000000 s, the timestamp of the vectors.
var epoch = time.UnixMilli(1700000000000)

func start(t *testing.T, opts Options) (*Server, *clock) {
	t.Helper()
	c := &clock{t: epoch}
	opts.Now = c.now
	s := New(opts)
	s.Start()
	t.Cleanup(s.Close)
	return s, c
}

type reply struct {
	status int
	body   string
	header http.Header
}

func post(t *testing.T, u string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.Header}
}

// send posts body and says only whether an answer came.
func send(ctx context.Context, u string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dingTalkURL is a robot's URL signed as DingTalk documents: timestamp in
// milliseconds and the sign URL-escaped.
func dingTalkURL(s *Server, token, secret string, at time.Time) string {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	return s.URLFor(DingTalk, token) + "&timestamp=" + ts + "&sign=" + url.QueryEscape(DingTalkSign(ts, secret))
}

// The signatures, against vectors computed apart from this code (openssl
// dgst -sha256 -hmac), so that a swapped key and message cannot pass.
func TestSignatureVectors(t *testing.T) {
	if got, want := DingTalkSign("1700000000000", "SECexample"), "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0="; got != want {
		t.Errorf("DingTalkSign = %q, want %q", got, want)
	}
	// A sign with '+': sent unescaped, a query reads it as a space.
	if got, want := DingTalkSign("1700000000002", "SECexample"), "YT7/FZACkFUlBiZXsLLxEy2viBHwqjxxCGDe+4v2PGc="; got != want {
		t.Errorf("DingTalkSign = %q, want %q", got, want)
	}
	if got, want := LarkSign("1700000000", "larksecret"), "9tAorv8A/4Mb2NzIxVauBMTDHC2MjRxDs/a0kZWnTWE="; got != want {
		t.Errorf("LarkSign = %q, want %q", got, want)
	}
	want := "sha256=203c23dc034ea5da9188b048782824c4d0aae967d6251618747617014cd91972"
	if got := GenericSignature("1700000000", "gensecret", []byte(`{"ok":1}`)); got != want {
		t.Errorf("GenericSignature = %q, want %q", got, want)
	}
}

// Each robot's documented sample, signed as documented, is taken, answered
// with the robot's success body, and recorded with what a person sees.
func TestSamples(t *testing.T) {
	s, _ := start(t, Options{Robots: []Robot{
		{Kind: DingTalk, Token: "dt", Secret: "SECexample", Keywords: []string{"start-ecs"}},
		{Kind: Lark, Token: "lk", Secret: "larksecret", Keywords: []string{"start-ecs"}},
		{Kind: WeCom, Token: "wc"},
		{Kind: Slack, Token: "T000/B000/XXXX"},
		{Kind: Generic, Token: "/hooks/ops", Secret: "gensecret"},
	}})
	genBody := sample(t, "generic-result.json")
	cases := []struct {
		kind              Kind
		url               string
		body              []byte
		header            map[string]string
		wantBody, msgType string
		title             string
	}{
		{DingTalk, dingTalkURL(s, "dt", "SECexample", epoch), sample(t, "dingtalk-markdown.json"), nil,
			`{"errcode":0,"errmsg":"ok"}`, "markdown", "start-ecs: 1 failed"},
		{Lark, s.URLFor(Lark, "lk"), sample(t, "lark-interactive.json"), nil,
			`{"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"}`, "interactive", "start-ecs: 1 failed"},
		{WeCom, s.URLFor(WeCom, "wc"), sample(t, "wecom-markdown.json"), nil, `{"errcode":0,"errmsg":"ok"}`, "markdown", ""},
		{Slack, s.URLFor(Slack, "T000/B000/XXXX"), sample(t, "slack-blocks.json"), nil, "ok", "blocks", "start-ecs: 1 failed"},
		{Generic, s.URLFor(Generic, "/hooks/ops"), genBody, map[string]string{
			"X-Signature-Timestamp": "1700000000",
			"X-Signature-256":       GenericSignature("1700000000", "gensecret", genBody),
		}, `{"ok":true}`, "json", ""},
	}
	for i, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			r := post(t, tc.url, tc.body, tc.header)
			if r.status != 200 || r.body != tc.wantBody {
				t.Fatalf("answer %d %s, want 200 %s", r.status, r.body, tc.wantBody)
			}
			m := s.Messages()[i]
			if !m.Accepted || m.Kind != tc.kind || m.MsgType != tc.msgType || m.Title != tc.title {
				t.Fatalf("recorded %+v", m)
			}
			if !strings.Contains(m.Text, "i-bp1failed00000000001") || strings.Contains(m.Text, "**") {
				t.Errorf("text %q: want the instance, without markdown marks", m.Text)
			}
			if tc.kind == DingTalk || tc.kind == Lark || tc.kind == Generic {
				if !m.Signed || !m.SignatureOK {
					t.Errorf("signed %v, checked %v; want both", m.Signed, m.SignatureOK)
				}
			}
		})
	}
}

// DingTalk's 加签: HMAC-SHA256 of "<timestamp ms>\n<secret>", base64, URL
// escaped, with the timestamp within an hour of the robot's clock.
func TestDingTalkSignature(t *testing.T) {
	s, _ := start(t, Options{Robots: []Robot{
		{Kind: DingTalk, Token: "dt", Secret: "SECexample"},
		{Kind: DingTalk, Token: "open"},
	}})
	body := sample(t, "dingtalk-markdown.json")
	ts := "1700000000002" // its sign holds '+' (TestSignatureVectors)
	unescaped := s.URLFor(DingTalk, "dt") + "&timestamp=" + ts + "&sign=" + DingTalkSign(ts, "SECexample")
	cases := []struct {
		name, url, want string
	}{
		{"signed now", dingTalkURL(s, "dt", "SECexample", epoch), `{"errcode":0,"errmsg":"ok"}`},
		{"signed 59 minutes ago", dingTalkURL(s, "dt", "SECexample", epoch.Add(-59*time.Minute)), `{"errcode":0,"errmsg":"ok"}`},
		{"sign not URL-escaped", unescaped, `{"errcode":310000,"errmsg":"sign not match"}`},
		{"another secret", dingTalkURL(s, "dt", "SECother", epoch), `{"errcode":310000,"errmsg":"sign not match"}`},
		{"signed 61 minutes ago", dingTalkURL(s, "dt", "SECexample", epoch.Add(-61*time.Minute)), `{"errcode":310000,"errmsg":"invalid timestamp"}`},
		{"signed 61 minutes ahead", dingTalkURL(s, "dt", "SECexample", epoch.Add(61*time.Minute)), `{"errcode":310000,"errmsg":"invalid timestamp"}`},
		{"timestamp in seconds", s.URLFor(DingTalk, "dt") + "&timestamp=1700000000&sign=" + url.QueryEscape(DingTalkSign("1700000000", "SECexample")), `{"errcode":310000,"errmsg":"invalid timestamp"}`},
		{"not signed", s.URLFor(DingTalk, "dt"), `{"errcode":310000,"errmsg":"invalid timestamp"}`},
		{"robot without secret", s.URLFor(DingTalk, "open"), `{"errcode":0,"errmsg":"ok"}`},
		{"unknown token", s.URLFor(DingTalk, "nope"), `{"errcode":300005,"errmsg":"token is not exist"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := post(t, tc.url, body, nil); r.status != 200 || r.body != tc.want {
				t.Fatalf("answer %d %s, want 200 %s", r.status, r.body, tc.want)
			}
		})
	}
}

// Lark's signature: timestamp in seconds and sign in the body, the base64
// HMAC-SHA256 keyed with "<timestamp>\n<secret>" over an empty message.
func TestLarkSignature(t *testing.T) {
	s, c := start(t, Options{Robots: []Robot{{Kind: Lark, Token: "lk", Secret: "larksecret"}}})
	u := s.URLFor(Lark, "lk")
	ok := `{"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"}`
	fail := `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`
	text := func(ts, sign string) []byte {
		return []byte(`{"timestamp":` + ts + `,"sign":"` + sign + `","msg_type":"text","content":{"text":"start-ecs: 1 failed"}}`)
	}
	good := LarkSign("1700000000", "larksecret")
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"string timestamp", text(`"1700000000"`, good), ok},
		{"number timestamp", text(`1700000000`, good), ok},
		{"sign of another timestamp", text(`"1700000001"`, good), fail},
		{"another secret", text(`"1700000000"`, LarkSign("1700000000", "other")), fail},
		{"keyed with the message instead", text(`"1700000000"`, DingTalkSign("1700000000", "larksecret")), fail},
		{"no sign", []byte(`{"msg_type":"text","content":{"text":"x"}}`), fail},
		{"not JSON", []byte(`msg_type=text`), `{"code":9499,"data":{},"msg":"Bad Request"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := post(t, u, tc.body, nil); r.status != 200 || r.body != tc.want {
				t.Fatalf("answer %d %s, want 200 %s", r.status, r.body, tc.want)
			}
		})
	}
	c.add(2 * time.Hour)
	if r := post(t, u, text(`"1700000000"`, good), nil); r.body != fail {
		t.Fatalf("two hours later: %s, want %s", r.body, fail)
	}
}

// The generic receiver: X-Signature-256 over "<timestamp>.<body>" with the
// timestamp within 300 s, and a JSON body.
func TestGenericSignature(t *testing.T) {
	s, _ := start(t, Options{Robots: []Robot{{Kind: Generic, Token: "/hook", Secret: "gensecret"}}})
	u := s.URLFor(Generic, "/hook")
	body := []byte(`{"ok":1}`)
	sig := GenericSignature("1700000000", "gensecret", body)
	cases := []struct {
		name   string
		body   []byte
		ts     string
		sig    string
		status int
	}{
		{"signed", body, "1700000000", sig, 200},
		{"body changed", []byte(`{"ok":2}`), "1700000000", sig, 401},
		{"timestamp changed", body, "1700000001", sig, 401},
		{"301 s old", body, "1699999699", GenericSignature("1699999699", "gensecret", body), 401},
		{"299 s old", body, "1699999701", GenericSignature("1699999701", "gensecret", body), 200},
		{"not signed", body, "", "", 401},
		{"not JSON", []byte(`x`), "1700000000", GenericSignature("1700000000", "gensecret", []byte(`x`)), 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, u, tc.body, map[string]string{"X-Signature-Timestamp": tc.ts, "X-Signature-256": tc.sig})
			if r.status != tc.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tc.status)
			}
		})
	}
}

// Each kind refuses a message its format does not allow, with its own code.
func TestFormats(t *testing.T) {
	s, _ := start(t, Options{Open: true})
	larkOK := `{"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"}`
	long := strings.Repeat("x", 4097)
	cases := []struct {
		name, url, body string
		status          int
		want            string
	}{
		{"dingtalk markdown without title", s.URLFor(DingTalk, "a"), `{"msgtype":"markdown","markdown":{"text":"x"}}`, 200, `{"errcode":300001,"errmsg":"param error"}`},
		{"dingtalk text", s.URLFor(DingTalk, "a"), `{"msgtype":"text","text":{"content":"x"}}`, 200, `{"errcode":0,"errmsg":"ok"}`},
		{"dingtalk unknown type", s.URLFor(DingTalk, "a"), `{"msgtype":"card"}`, 200, `{"errcode":300001,"errmsg":"param error"}`},
		{"dingtalk over 20000 bytes", s.URLFor(DingTalk, "a"), `{"msgtype":"text","text":{"content":"` + strings.Repeat("x", 20000) + `"}}`, 200, `{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}`},
		{"lark unknown type", s.URLFor(Lark, "a"), `{"msg_type":"video"}`, 200, `{"code":9499,"data":{},"msg":"Bad Request"}`},
		{"lark post", s.URLFor(Lark, "a"), `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"t","content":[[{"tag":"text","text":"a "},{"tag":"a","text":"b","href":"https://x"}]]}}}}`, 200, `{"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"}`},
		{"wecom markdown of 4097 bytes", s.URLFor(WeCom, "a"), `{"msgtype":"markdown","markdown":{"content":"` + long + `"}}`, 200, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`},
		{"wecom markdown of 4096 bytes", s.URLFor(WeCom, "a"), `{"msgtype":"markdown","markdown":{"content":"` + long[1:] + `"}}`, 200, `{"errcode":0,"errmsg":"ok"}`},
		{"wecom unknown type", s.URLFor(WeCom, "a"), `{"msgtype":"card"}`, 200, `{"errcode":40008,"errmsg":"invalid message type"}`},
		{"wecom empty", s.URLFor(WeCom, "a"), `{"msgtype":"markdown","markdown":{}}`, 200, `{"errcode":44004,"errmsg":"empty content"}`},
		{"slack not JSON", s.URLFor(Slack, "T/B/X"), `text=hi`, 400, "invalid_payload"},
		{"slack without text or blocks", s.URLFor(Slack, "T/B/X"), `{"username":"x"}`, 400, "no_text"},
		{"slack blocks not a list", s.URLFor(Slack, "T/B/X"), `{"blocks":{}}`, 400, "invalid_blocks"},
		{"slack text", s.URLFor(Slack, "T/B/X"), `{"text":"hi"}`, 200, "ok"},
		{"lark card v2", s.URLFor(Lark, "a"), `{"msg_type":"interactive","card":{"schema":"2.0","header":{"title":{"tag":"plain_text","content":"h"}},"body":{"elements":[{"tag":"markdown","content":"**v2** body"}]}}}`, 200, larkOK},
		{"lark card without text", s.URLFor(Lark, "a"), `{"msg_type":"interactive","card":{}}`, 200, `{"code":9499,"data":{},"msg":"Bad Request"}`},
		{"generic not JSON", s.URLFor(Generic, "/g"), `{`, 400, "body_not_json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := post(t, tc.url, []byte(tc.body), nil); r.status != tc.status || r.body != tc.want {
				t.Fatalf("answer %d %s, want %d %s", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	if m := s.Messages()[5]; m.Title != "t" || m.Text != "a b" {
		t.Errorf("lark post read as %q / %q", m.Title, m.Text)
	}
	if m := s.Messages()[14]; m.Title != "h" || m.Text != "v2 body" {
		t.Errorf("lark card v2 read as %q / %q", m.Title, m.Text)
	}
	// Slack takes the JSON as a form field named payload, too.
	form := "payload=" + url.QueryEscape(`{"text":"from a form"}`)
	r := post(t, s.URLFor(Slack, "T/B/X"), []byte(form), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if last := s.Messages()[len(s.Messages())-1]; r.body != "ok" || last.Text != "from a form" {
		t.Errorf("slack form: %s, read %q", r.body, last.Text)
	}
}

// An unknown token gets each robot's own answer.
func TestUnknownRobot(t *testing.T) {
	s, _ := start(t, Options{})
	body := []byte(`{"msgtype":"text","text":{"content":"x"}}`)
	cases := []struct {
		url    string
		status int
		want   string
	}{
		{s.URLFor(DingTalk, "x"), 200, `{"errcode":300005,"errmsg":"token is not exist"}`},
		{s.URLFor(Lark, "x"), 200, `{"code":19001,"data":{},"msg":"param invalid: incoming webhook access token invalid"}`},
		{s.URLFor(WeCom, "x"), 200, `"errcode":93000`},
		{s.URLFor(Slack, "T/B/X"), 404, "no_service"},
		{s.URLFor(Generic, "/x"), 404, "no_receiver"},
	}
	for _, tc := range cases {
		if r := post(t, tc.url, body, nil); r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s, want %d %s", tc.url, r.status, r.body, tc.status, tc.want)
		}
	}
	if n := len(s.Accepted()); n != 0 {
		t.Errorf("%d accepted, want none", n)
	}
}

// Keywords: a message holding none of a robot's keywords is refused.
func TestKeywords(t *testing.T) {
	s, _ := start(t, Options{Robots: []Robot{
		{Kind: DingTalk, Token: "d", Keywords: []string{"alert", "start-ecs"}},
		{Kind: Lark, Token: "l", Keywords: []string{"start-ecs"}},
	}})
	dt := func(text string) []byte {
		return []byte(`{"msgtype":"markdown","markdown":{"title":"t","text":"` + text + `"}}`)
	}
	if r := post(t, s.URLFor(DingTalk, "d"), dt("hello"), nil); r.body != `{"errcode":310000,"errmsg":"keywords not in content"}` {
		t.Errorf("dingtalk without keyword: %s", r.body)
	}
	if r := post(t, s.URLFor(DingTalk, "d"), dt("**start-ecs** failed"), nil); r.body != `{"errcode":0,"errmsg":"ok"}` {
		t.Errorf("dingtalk with keyword: %s", r.body)
	}
	lk := `{"msg_type":"text","content":{"text":"hello"}}`
	if r := post(t, s.URLFor(Lark, "l"), []byte(lk), nil); r.body != `{"code":19024,"data":{},"msg":"Key Words Not Found"}` {
		t.Errorf("lark without keyword: %s", r.body)
	}
}

// The rate limits: DingTalk and WeCom 20 a minute per robot, Slack answers
// 429 with Retry-After; the window frees as the clock moves.
func TestRateLimit(t *testing.T) {
	s, c := start(t, Options{Robots: []Robot{
		{Kind: DingTalk, Token: "d"}, {Kind: DingTalk, Token: "other"},
		{Kind: WeCom, Token: "w"}, {Kind: Slack, Token: "T/B/S", PerMinute: 2},
	}})
	dt := []byte(`{"msgtype":"text","text":{"content":"x"}}`)
	for i := 0; i < 20; i++ {
		if r := post(t, s.URLFor(DingTalk, "d"), dt, nil); r.body != `{"errcode":0,"errmsg":"ok"}` {
			t.Fatalf("message %d: %s", i+1, r.body)
		}
		c.add(time.Second)
	}
	if r := post(t, s.URLFor(DingTalk, "d"), dt, nil); r.body != `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}` {
		t.Fatalf("21st message in a minute: %s", r.body)
	}
	if r := post(t, s.URLFor(DingTalk, "other"), dt, nil); r.body != `{"errcode":0,"errmsg":"ok"}` {
		t.Fatalf("another robot: %s", r.body)
	}
	// DingTalk then refuses the robot for ten minutes, though the first
	// message is soon a minute old.
	c.add(41 * time.Second)
	if r := post(t, s.URLFor(DingTalk, "d"), dt, nil); !strings.Contains(r.body, `"errcode":130101`) {
		t.Fatalf("a minute after the first, within the penalty: %s", r.body)
	}
	c.add(10*time.Minute - 41*time.Second)
	if r := post(t, s.URLFor(DingTalk, "d"), dt, nil); r.body != `{"errcode":0,"errmsg":"ok"}` {
		t.Fatalf("ten minutes after the 21st: %s", r.body)
	}
	wc := []byte(`{"msgtype":"text","text":{"content":"x"}}`)
	for i := 0; i < 20; i++ {
		post(t, s.URLFor(WeCom, "w"), wc, nil)
	}
	if r := post(t, s.URLFor(WeCom, "w"), wc, nil); r.body != `{"errcode":45009,"errmsg":"api freq out of limit"}` {
		t.Fatalf("wecom 21st: %s", r.body)
	}
	sl := []byte(`{"text":"x"}`)
	post(t, s.URLFor(Slack, "T/B/S"), sl, nil)
	c.add(20 * time.Second)
	post(t, s.URLFor(Slack, "T/B/S"), sl, nil)
	r := post(t, s.URLFor(Slack, "T/B/S"), sl, nil)
	if r.status != 429 || r.body != "rate_limited" || r.header.Get("Retry-After") != "40" {
		t.Fatalf("slack third: %d %s Retry-After %q, want 429 rate_limited 40", r.status, r.body, r.header.Get("Retry-After"))
	}
}

// Faults: down (no answer), a 5xx, the robot's own error code, and slow;
// a robot's fault leaves the others alone.
func TestFaults(t *testing.T) {
	s, _ := start(t, Options{Open: true})
	body := []byte(`{"msgtype":"text","text":{"content":"x"}}`)
	ok := `{"errcode":0,"errmsg":"ok"}`

	s.SetFault("down", Fault{Down: true})
	if err := send(context.Background(), s.URLFor(DingTalk, "down"), body); err == nil {
		t.Fatal("a robot that is down answered")
	}
	if r := post(t, s.URLFor(DingTalk, "up"), body, nil); r.body != ok {
		t.Fatalf("another robot: %s", r.body)
	}
	s.SetFault("down", Fault{})
	if r := post(t, s.URLFor(DingTalk, "down"), body, nil); r.body != ok {
		t.Fatalf("fault cleared: %s", r.body)
	}

	s.SetFault("", Fault{Status: 503})
	if r := post(t, s.URLFor(WeCom, "any"), body, nil); r.status != 503 {
		t.Fatalf("status fault: %d", r.status)
	}
	s.SetFault("", Fault{})

	s.SetFault("coded", Fault{Code: 410100, Msg: "send too fast"})
	if r := post(t, s.URLFor(DingTalk, "coded"), body, nil); r.body != `{"errcode":410100,"errmsg":"send too fast"}` {
		t.Fatalf("code fault: %s", r.body)
	}
	s.SetFault("T/B/C", Fault{Code: 403, Msg: "invalid_token"})
	if r := post(t, s.URLFor(Slack, "T/B/C"), []byte(`{"text":"x"}`), nil); r.status != 403 || r.body != "invalid_token" {
		t.Fatalf("slack code fault: %d %s", r.status, r.body)
	}

	s.SetFault("slow", Fault{Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := send(ctx, s.URLFor(DingTalk, "slow"), body); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow robot with a 50 ms client: %v, want a timeout", err)
	}
	begin := time.Now()
	if r := post(t, s.URLFor(DingTalk, "slow"), body, nil); r.body != ok || time.Since(begin) < 300*time.Millisecond {
		t.Fatalf("slow robot: %s after %v, want ok after 300 ms", r.body, time.Since(begin))
	}

	faults := map[string]int{}
	for _, m := range s.Messages() {
		faults[m.Fault]++
	}
	if faults["down"] != 1 || faults["status"] != 1 || faults["code"] != 2 {
		t.Errorf("recorded faults %v", faults)
	}
}

// Close refuses connections: a robot host that is gone.
func TestClosed(t *testing.T) {
	s, _ := start(t, Options{Open: true})
	u := s.URLFor(DingTalk, "t")
	s.Close()
	if err := send(context.Background(), u, []byte(`{}`)); err == nil {
		t.Fatal("a closed server answered")
	}
}

// What a person sees of the DingTalk sample: no markdown marks, links with
// their address, list items and quotes marked.
func TestRender(t *testing.T) {
	s, _ := start(t, Options{Open: true})
	post(t, s.URLFor(DingTalk, "t"), sample(t, "dingtalk-markdown.json"), nil)
	got := Render(s.Messages()[0])
	for _, want := range []string{
		"[dingtalk] start-ecs: 1 failed\n",
		"start-ecs: 1 failed, 1 mistake\n",
		"│ function start-ecs, trigger timer",
		"• i-bp1failed00000000001 cn-hangzhou 1234567890 Failed InvalidAccountStatus.NotEnoughBalance: top up",
		"SLS query <https://sls.console.aliyun.com/",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render lacks %q:\n%s", want, got)
		}
	}
	for _, mark := range []string{"**", "####", "`", "]("} {
		if strings.Contains(got, mark) {
			t.Errorf("render keeps %q:\n%s", mark, got)
		}
	}
	if got := PlainText(`<font color="warning">1 failed</font>`); got != "1 failed" {
		t.Errorf("wecom font: %q", got)
	}
}

// A person reads an escaped mark as the mark: DingTalk shows
// "direct\[0\] a\_b \*" as "direct[0] a_b *", not with the backslashes,
// and an escaped mark is not taken for emphasis.
func TestPlainTextShowsEscapedMarks(t *testing.T) {
	if got := PlainText(`**x** direct\[0\] a\_b \*\*not bold\*\* \\`); got != `x direct[0] a_b **not bold** \` {
		t.Errorf("got %q", got)
	}
}
