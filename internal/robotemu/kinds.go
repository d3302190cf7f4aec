package robotemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// kindSpec is how one kind of robot checks a request and answers.
type kindSpec struct {
	ok, unknown, limited, bad func() answer
	// noKeyword is nil for kinds without a keyword setting.
	noKeyword func() answer
	fail      func(code int, msg string) answer
	// check verifies the signature and the message format, filling m's
	// MsgType, Title, Text, Signed and SignatureOK; false with the answer
	// when the robot refuses it.
	check func(now time.Time, r *http.Request, body []byte, rb Robot, m *Message) (answer, bool)
}

var kinds = map[Kind]kindSpec{
	DingTalk: {
		ok:        func() answer { return errcodeAnswer(0, "ok") },
		unknown:   func() answer { return errcodeAnswer(300005, "token is not exist") },
		limited:   func() answer { return errcodeAnswer(130101, "send too fast, exceed 20 times per minute") },
		bad:       dingTalkBad,
		noKeyword: func() answer { return errcodeAnswer(310000, "keywords not in content") },
		fail:      errcodeAnswer,
		check:     checkDingTalk,
	},
	Lark: {
		ok: func() answer {
			return answer{status: 200, code: "0", accepted: true,
				body: []byte(`{"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"}`)}
		},
		unknown: func() answer { return larkAnswer(19001, "param invalid: incoming webhook access token invalid") },
		limited: func() answer {
			return larkAnswer(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]")
		},
		bad:       larkBad,
		noKeyword: func() answer { return larkAnswer(19024, "Key Words Not Found") },
		fail:      larkAnswer,
		check:     checkLark,
	},
	WeCom: {
		ok: func() answer { return errcodeAnswer(0, "ok") },
		unknown: func() answer {
			return errcodeAnswer(93000, "invalid webhook url, hint: [robotemu], more info at https://open.work.weixin.qq.com/devtool/query?e=93000")
		},
		limited: func() answer { return errcodeAnswer(45009, "api freq out of limit") },
		bad:     weComBad,
		fail:    errcodeAnswer,
		check:   checkWeCom,
	},
	Slack: {
		ok:      func() answer { return answer{status: 200, body: []byte("ok"), code: "ok", accepted: true} },
		unknown: func() answer { return plainAnswer(404, "no_service") },
		limited: func() answer { return plainAnswer(429, "rate_limited") },
		bad:     slackBad,
		fail:    plainAnswer,
		check:   checkSlack,
	},
	Generic: {
		ok:      func() answer { return answer{status: 200, body: []byte(`{"ok":true}`), code: "ok", accepted: true} },
		unknown: func() answer { return plainAnswer(404, "no_receiver") },
		limited: func() answer { return plainAnswer(429, "rate_limited") },
		bad:     genericBad,
		fail:    plainAnswer,
		check:   checkGeneric,
	},
}

// The answers to a body the kind cannot read.
func dingTalkBad() answer { return errcodeAnswer(300001, "param error") }
func larkBad() answer     { return larkAnswer(9499, "Bad Request") }
func weComBad() answer    { return errcodeAnswer(40008, "invalid message type") }
func slackBad() answer    { return plainAnswer(400, "invalid_payload") }
func genericBad() answer  { return plainAnswer(400, "body_not_json") }

// errcodeAnswer is DingTalk's and WeCom's answer: HTTP 200 and errcode.
func errcodeAnswer(code int, msg string) answer {
	b, _ := json.Marshal(struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
	}{code, msg})
	return answer{status: 200, body: b, code: strconv.Itoa(code), accepted: code == 0}
}

// larkAnswer is Lark's answer to a message it refuses: HTTP 200 and code.
func larkAnswer(code int, msg string) answer {
	b, _ := json.Marshal(struct {
		Code int            `json:"code"`
		Data map[string]any `json:"data"`
		Msg  string         `json:"msg"`
	}{code, map[string]any{}, msg})
	return answer{status: 200, body: b, code: strconv.Itoa(code), accepted: code == 0}
}

// plainAnswer is Slack's (and the generic receiver's) refusal: an HTTP
// status and a short text.
func plainAnswer(status int, msg string) answer {
	return answer{status: status, body: []byte(msg), code: msg}
}

// DingTalkSign is the sign of a DingTalk request: base64(HMAC-SHA256(key
// secret, "<timestamp ms>\n<secret>")), before URL escaping.
func DingTalkSign(timestampMs, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMs + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// LarkSign is the sign of a Lark request: base64(HMAC-SHA256(key
// "<timestamp s>\n<secret>", empty message)).
func LarkSign(timestampS, secret string) string {
	mac := hmac.New(sha256.New, []byte(timestampS+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// GenericSignature is the X-Signature-256 value of a generic request:
// "sha256=" + hex(HMAC-SHA256(secret, "<timestamp>.<body>")).
func GenericSignature(timestampS, secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampS + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// within says the timestamp ts, in unit since the epoch, is within window
// of now.
func within(ts string, unit time.Duration, now time.Time, window time.Duration) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return false
	}
	d := now.Sub(time.Unix(0, 0).Add(time.Duration(n) * unit))
	return d <= window && d >= -window
}

func checkDingTalk(now time.Time, r *http.Request, body []byte, rb Robot, m *Message) (answer, bool) {
	q := r.URL.Query()
	ts, sign := q.Get("timestamp"), q.Get("sign")
	m.Signed = sign != ""
	if rb.Secret != "" {
		if !within(ts, time.Millisecond, now, time.Hour) {
			return errcodeAnswer(310000, "invalid timestamp"), false
		}
		m.SignatureOK = hmac.Equal([]byte(sign), []byte(DingTalkSign(ts, rb.Secret)))
		if !m.SignatureOK {
			return errcodeAnswer(310000, "sign not match"), false
		}
	}
	if len(body) > 20000 {
		return errcodeAnswer(460101, "message too long, exceed 20000 bytes"), false
	}
	if err := dingTalkContent(m); err != nil {
		return dingTalkBad(), false
	}
	return answer{}, true
}

// dingTalkContent reads a DingTalk text or markdown message.
func dingTalkContent(m *Message) error {
	m.MsgType = str(m.Parsed, "msgtype")
	switch m.MsgType {
	case "markdown":
		m.Title = str(obj(m.Parsed, "markdown"), "title")
		m.Text = PlainText(str(obj(m.Parsed, "markdown"), "text"))
		if m.Title == "" || m.Text == "" {
			return errBadMessage
		}
	case "text":
		m.Text = str(obj(m.Parsed, "text"), "content")
		if m.Text == "" {
			return errBadMessage
		}
	default:
		return errBadMessage
	}
	return nil
}

func checkLark(now time.Time, _ *http.Request, _ []byte, rb Robot, m *Message) (answer, bool) {
	if m.Parsed == nil {
		return larkBad(), false
	}
	ts := scalar(m.Parsed["timestamp"])
	sign := str(m.Parsed, "sign")
	m.Signed = sign != ""
	if rb.Secret != "" {
		m.SignatureOK = within(ts, time.Second, now, time.Hour) &&
			hmac.Equal([]byte(sign), []byte(LarkSign(ts, rb.Secret)))
		if !m.SignatureOK {
			return larkAnswer(19021, "sign match fail or timestamp is not within one hour from current time"), false
		}
	}
	if err := larkContent(m); err != nil {
		return larkBad(), false
	}
	return answer{}, true
}

// larkContent reads a Lark text, post (rich text) or interactive (card)
// message.
func larkContent(m *Message) error {
	m.MsgType = str(m.Parsed, "msg_type")
	switch m.MsgType {
	case "text":
		m.Text = str(obj(m.Parsed, "content"), "text")
	case "post":
		post := obj(obj(m.Parsed, "content"), "post")
		for _, lang := range []string{"zh_cn", "en_us", "ja_jp"} {
			if p := obj(post, lang); p != nil {
				m.Title = str(p, "title")
				m.Text = postText(p["content"])
				break
			}
		}
	case "interactive":
		card := obj(m.Parsed, "card")
		m.Title = str(obj(obj(card, "header"), "title"), "content")
		elements := card["elements"]
		if elements == nil {
			elements = obj(card, "body")["elements"]
		}
		m.Text = PlainText(strings.Join(collect(elements, "content"), "\n"))
	default:
		return errBadMessage
	}
	if m.Text == "" {
		return errBadMessage
	}
	return nil
}

// weComLimits are the documented limits of a WeCom message's content, in
// bytes.
var weComLimits = map[string]int{"text": 2048, "markdown": 4096, "markdown_v2": 4096}

// weComOther are the WeCom message types the emulator takes without
// reading them.
var weComOther = map[string]bool{"image": true, "news": true, "file": true, "voice": true, "template_card": true}

func checkWeCom(_ time.Time, _ *http.Request, _ []byte, _ Robot, m *Message) (answer, bool) {
	if m.Parsed == nil {
		return weComBad(), false
	}
	m.MsgType = str(m.Parsed, "msgtype")
	if weComOther[m.MsgType] {
		return answer{}, true
	}
	limit, ok := weComLimits[m.MsgType]
	if !ok {
		return weComBad(), false
	}
	content := str(obj(m.Parsed, m.MsgType), "content")
	if content == "" {
		return errcodeAnswer(44004, "empty content"), false
	}
	if len(content) > limit {
		return errcodeAnswer(40058, fmt.Sprintf("%s.content exceed max length %d", m.MsgType, limit)), false
	}
	m.Text = PlainText(content)
	return answer{}, true
}

func checkSlack(_ time.Time, r *http.Request, body []byte, _ Robot, m *Message) (answer, bool) {
	if m.Parsed == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// Slack also takes the JSON as a form field named payload.
		if form, err := url.ParseQuery(string(body)); err == nil {
			_ = json.Unmarshal([]byte(form.Get("payload")), &m.Parsed)
		}
	}
	if m.Parsed == nil {
		return slackBad(), false
	}
	text := str(m.Parsed, "text")
	blocks, isList := m.Parsed["blocks"].([]any)
	if _, present := m.Parsed["blocks"]; present && !isList {
		return plainAnswer(400, "invalid_blocks"), false
	}
	if text == "" && len(blocks) == 0 {
		return plainAnswer(400, "no_text"), false
	}
	m.MsgType = "text"
	m.Text = PlainText(text)
	if len(blocks) > 0 {
		m.MsgType = "blocks"
		m.Title, m.Text = slackBlocks(blocks)
	}
	return answer{}, true
}

// slackBlocks reads the header block as the title and the text of the
// others.
func slackBlocks(blocks []any) (title, text string) {
	var parts []string
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		if str(bm, "type") == "header" && title == "" {
			title = str(obj(bm, "text"), "text")
			continue
		}
		parts = append(parts, collect(bm, "text")...)
	}
	return title, PlainText(strings.Join(parts, "\n"))
}

func checkGeneric(now time.Time, r *http.Request, body []byte, rb Robot, m *Message) (answer, bool) {
	ts, sig := r.Header.Get("X-Signature-Timestamp"), r.Header.Get("X-Signature-256")
	m.Signed = sig != ""
	if rb.Secret != "" {
		m.SignatureOK = within(ts, time.Second, now, 300*time.Second) &&
			hmac.Equal([]byte(sig), []byte(GenericSignature(ts, rb.Secret, body)))
		if !m.SignatureOK {
			return plainAnswer(401, "signature_mismatch"), false
		}
	}
	if !json.Valid(body) {
		return genericBad(), false
	}
	m.MsgType = "json"
	m.Text = string(body)
	return answer{}, true
}

// obj is v[key] as a JSON object, nil when it is not one.
func obj(v map[string]any, key string) map[string]any {
	o, _ := v[key].(map[string]any)
	return o
}

// str is v[key] as a string, "" when it is not one.
func str(v map[string]any, key string) string {
	s, _ := v[key].(string)
	return s
}

// scalar is a JSON string or number as text (Lark's timestamp is a string
// in its documentation; a number is taken too).
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

// collect returns, depth first, every string found under key in v: the
// value itself when it is a string, or the strings under key inside it.
func collect(v any, key string) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = append(out, collect(e, key)...)
		}
	case map[string]any:
		if s, ok := t[key].(string); ok {
			return append(out, s)
		}
		for _, k := range sortedKeys(t) {
			out = append(out, collect(t[k], key)...)
		}
	}
	return out
}

// postText is a Lark post's content: lines of elements, each line's texts
// joined.
func postText(content any) string {
	lines, _ := content.([]any)
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.Join(collect(l, "text"), ""))
	}
	return strings.Join(out, "\n")
}
