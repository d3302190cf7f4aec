package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is a robot that did not take the message: its host and a code
// (the HTTP status, the robot's own error code, or "timeout"). It never
// holds a URL, a token, a secret or a signature: the caller logs it as one
// `notify` WARN line.
type Report struct {
	Kind Kind
	Host string
	Code string
}

// Codes of a Report that are not an HTTP status or a robot's code.
const (
	CodeTimeout       = "timeout"
	CodeUnreachable   = "unreachable"
	CodeInvalidAnswer = "invalid answer"
	CodeInvalidTarget = "invalid target"
)

// maxAnswer bounds how much of a robot's answer is read.
const maxAnswer = 64 << 10

// Send posts m to every target at once, each bounded by ctx, and returns a
// Report for each target that did not take it, in the targets' order. A 5xx
// is retried once; a robot's own error code in a 200 answer (DingTalk or
// WeCom errcode ≠ 0, Lark code ≠ 0, Slack anything but "ok") is a failure
// with that code. A nil client is http.DefaultClient.
func Send(ctx context.Context, client *http.Client, targets []Target, m *Message) []Report {
	if client == nil {
		client = http.DefaultClient
	}
	codes := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { codes[i] = sendOne(ctx, client, t, m) })
	}
	wg.Wait()
	var reports []Report
	for i, code := range codes {
		if code != "" {
			reports = append(reports, Report{Kind: targets[i].Kind, Host: targets[i].Host, Code: code})
		}
	}
	return reports
}

// sendOne delivers m to t, retrying once after a 5xx; "" when t took it.
func sendOne(ctx context.Context, client *http.Client, t Target, m *Message) string {
	code, retry := attempt(ctx, client, t, m)
	if retry && ctx.Err() == nil {
		code, _ = attempt(ctx, client, t, m)
	}
	return code
}

// attempt makes one request; retry says the answer was a 5xx.
func attempt(ctx context.Context, client *http.Client, t Target, m *Message) (code string, retry bool) {
	req, err := t.request(ctx, m, time.Now())
	if err != nil {
		return CodeInvalidTarget, false
	}
	resp, err := client.Do(req)
	if err != nil {
		// err quotes the URL: only its kind is kept.
		return failureOf(ctx, err), false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return failureOf(ctx, err), false
	}
	if resp.StatusCode >= 500 {
		return strconv.Itoa(resp.StatusCode), true
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return strconv.Itoa(resp.StatusCode), false
	}
	return robotCode(t.Kind, body), false
}

func failureOf(ctx context.Context, err error) string {
	var ne net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return CodeTimeout
	}
	return CodeUnreachable
}

// robotCode reads a robot's own error code from a 2xx answer; "" is
// success.
func robotCode(kind Kind, body []byte) string {
	switch kind {
	case DingTalk, WeCom:
		var a struct {
			Errcode *int `json:"errcode"`
		}
		if json.Unmarshal(body, &a) != nil || a.Errcode == nil {
			return CodeInvalidAnswer
		}
		return nonZero(*a.Errcode)
	case Lark:
		var a struct {
			Code       *int `json:"code"`
			StatusCode *int `json:"StatusCode"`
		}
		if json.Unmarshal(body, &a) != nil || a.Code == nil && a.StatusCode == nil {
			return CodeInvalidAnswer
		}
		if a.Code == nil {
			a.Code = a.StatusCode
		}
		return nonZero(*a.Code)
	case Slack:
		return slackCode(string(bytes.TrimSpace(body)))
	}
	return ""
}

func nonZero(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

// slackCode is Slack's answer when it is not "ok": Slack answers with a
// short snake_case word (invalid_payload, no_text, …); anything else is
// not quoted.
func slackCode(s string) string {
	if s == "ok" {
		return ""
	}
	if s == "" || len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return CodeInvalidAnswer
	}
	return s
}

// request builds the signed POST of m in t's format.
func (t Target) request(ctx context.Context, m *Message, now time.Time) (*http.Request, error) {
	u, body, err := t.payload(m, now)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if t.Kind == Generic && t.secret != "" {
		ts := now.Unix()
		req.Header.Set("X-Signature-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Signature-256", genericSign(t.secret, ts, body))
	}
	return req, nil
}

// payload is the URL and the body of m for t, signed as t's robot asks.
func (t Target) payload(m *Message, now time.Time) (string, []byte, error) {
	switch t.Kind {
	case DingTalk:
		return t.dingTalk(m, now)
	case Lark:
		b, err := json.Marshal(larkBody(m, t.secret, now))
		return t.url, b, err
	case WeCom:
		b, err := json.Marshal(wecomBody{MsgType: "markdown", Markdown: wecomMarkdown{Content: m.Markdown}})
		return t.url, b, err
	case Slack:
		b, err := json.Marshal(slackBody{Text: m.Mrkdwn})
		return t.url, b, err
	}
	b, err := m.JSON()
	return t.url, b, err
}

func (t Target) dingTalk(m *Message, now time.Time) (string, []byte, error) {
	b, err := json.Marshal(dingTalkBody{MsgType: "markdown", Markdown: dingTalkMarkdown{Title: m.Title, Text: m.Markdown}})
	if err != nil || t.secret == "" {
		return t.url, b, err
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return "", nil, err
	}
	ms := now.UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ms, 10))
	q.Set("sign", dingTalkSign(t.secret, ms))
	u.RawQuery = q.Encode()
	return u.String(), b, nil
}

// DingTalk's markdown message.
type dingTalkBody struct {
	MsgType  string           `json:"msgtype"`
	Markdown dingTalkMarkdown `json:"markdown"`
}

type dingTalkMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// WeCom's markdown message.
type wecomBody struct {
	MsgType  string        `json:"msgtype"`
	Markdown wecomMarkdown `json:"markdown"`
}

type wecomMarkdown struct {
	Content string `json:"content"`
}

// Slack's incoming-webhook message: text is mrkdwn.
type slackBody struct {
	Text string `json:"text"`
}

// Lark's interactive card: a header with the title and one markdown
// element with the text; timestamp and sign beside it when the bot signs.
type larkMessage struct {
	Timestamp string   `json:"timestamp,omitempty"`
	Sign      string   `json:"sign,omitempty"`
	MsgType   string   `json:"msg_type"`
	Card      larkCard `json:"card"`
}

type larkCard struct {
	Header   larkHeader    `json:"header"`
	Elements []larkElement `json:"elements"`
}

type larkHeader struct {
	Title    larkText `json:"title"`
	Template string   `json:"template"`
}

type larkText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type larkElement = larkText

func larkBody(m *Message, secret string, now time.Time) larkMessage {
	template := "green"
	if m.Problem {
		template = "red"
	}
	b := larkMessage{
		MsgType: "interactive",
		Card: larkCard{
			Header:   larkHeader{Title: larkText{Tag: "plain_text", Content: m.Title}, Template: template},
			Elements: []larkElement{{Tag: "markdown", Content: m.Markdown}},
		},
	}
	if secret != "" {
		sec := now.Unix()
		b.Timestamp = strconv.FormatInt(sec, 10)
		b.Sign = larkSign(secret, sec)
	}
	return b
}
