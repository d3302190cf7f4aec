package notify

import (
	"fmt"
	"strings"
	"testing"
)

// DESIGN §9: the kind follows the host, or an explicit kind= prefix; a
// signing secret follows the URL after #; https only, http for loopback.
func TestParseURLsKindsBySchemeHostAndPrefix(t *testing.T) {
	cases := []struct {
		entry, host string
		kind        Kind
		secret      string
	}{
		{"https://oapi.dingtalk.com/robot/send?access_token=TOK1", "oapi.dingtalk.com", DingTalk, ""},
		{"https://oapi.dingtalk.com/robot/send?access_token=TOK1#SECabc", "oapi.dingtalk.com", DingTalk, "SECabc"},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/abc-123#s", "open.feishu.cn", Lark, "s"},
		{"https://OPEN.LarkSuite.com/open-apis/bot/v2/hook/abc", "open.larksuite.com", Lark, ""},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", "qyapi.weixin.qq.com", WeCom, ""},
		{"https://hooks.slack.com/services/T0/B0/X", "hooks.slack.com", Slack, ""},
		{"https://example.com/hook", "example.com", Generic, ""},
		{"dingtalk=http://127.0.0.1:9000/robot/send?access_token=t#SECx", "127.0.0.1", DingTalk, "SECx"},
		{"lark=https://proxy.example.com/x", "proxy.example.com", Lark, ""},
		{"WeCom=http://[::1]:8/x", "::1", WeCom, ""},
		{"slack=http://localhost:1/x", "localhost", Slack, ""},
		{"generic=https://oapi.dingtalk.com/robot/send?access_token=T", "oapi.dingtalk.com", Generic, ""},
		{"  https://example.com/a?x=1=2  ", "example.com", Generic, ""},
	}
	for _, tc := range cases {
		got, err := ParseURLs(tc.entry)
		if err != nil {
			t.Errorf("%q: %v", tc.entry, err)
			continue
		}
		if len(got) != 1 || got[0].Kind != tc.kind || got[0].Host != tc.host || got[0].secret != tc.secret {
			t.Errorf("%q: got %+v (secret %q), want %s %s %q", tc.entry, got, got[0].secret, tc.kind, tc.host, tc.secret)
		}
	}
	got, err := ParseURLs("https://hooks.slack.com/a, https://example.com/b#gen")
	if err != nil || len(got) != 2 || got[1].Kind != Generic || got[1].secret != "gen" {
		t.Fatalf("two entries: %+v, %v", got, err)
	}
	if got, err := ParseURLs(" "); err != nil || got != nil {
		t.Fatalf("empty: %v, %v", got, err)
	}
}

// DESIGN §9: errors name the entry's position and its host, never its
// token or secret.
func TestParseURLsErrorsNameHostNotSecrets(t *testing.T) {
	const tok, sec = "TOKENabc123", "SECsecret999"
	cases := []struct{ value, want string }{
		{"https://example.com/a,http://robots.example.com/send?access_token=" + tok + "#" + sec, "entry 2 of 2: host robots.example.com: http is allowed for a loopback address only"},
		{"ftp://files.example.com/" + tok, "entry 1 of 1: host files.example.com: scheme must be https"},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + tok + "#" + sec, "host qyapi.weixin.qq.com: a wecom robot does not sign"},
		{"https://hooks.slack.com/services/" + tok + "#" + sec, "host hooks.slack.com: a slack robot does not sign"},
		{"https://oapi.dingtalk.com/robot/send?access_token=" + tok + "#", "host oapi.dingtalk.com: empty secret"},
		{"teams=https://x.example.com/" + tok, `unknown kind "teams"`},
		{"https://example.com/a#s1, https://EXAMPLE.com/a#s2", "entry 2 of 2: host example.com: the same URL as an earlier entry"},
		{"https://hooks.slack.com/services/" + tok + ",generic=https://hooks.slack.com/services/" + tok, "entry 2 of 2: host hooks.slack.com: the same URL"},
		{"://" + tok + "#" + sec, "entry 1 of 1: not a URL"},
		{"https://%zz" + tok, "entry 1 of 1: not a URL"},
		{tok, "entry 1 of 1: not a URL"},
		{"mailto:" + tok + "@example.com", "not a URL"},
	}
	for _, tc := range cases {
		_, err := ParseURLs(tc.value)
		if err == nil {
			t.Errorf("%q: no error", tc.value)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%q: error %q, want it to say %q", tc.value, msg, tc.want)
		}
		if strings.Contains(msg, tok) || strings.Contains(msg, sec) {
			t.Errorf("%q: error %q quotes a token or secret", tc.value, msg)
		}
	}
}

// DESIGN §9, one message per invocation to every robot: NOTIFY_URLS is a
// list like every list variable — spaces around an entry and empty entries
// (a trailing comma, ",,") are ignored, a kind= prefix is read in any case
// and with spaces around "=" — and a URL given twice (its scheme and host
// in any case, with or without a prefix naming the kind its host gives) is
// one robot, sent one message, not two.
func TestParseURLsListRulesEmptyEntriesAndRepeats(t *testing.T) {
	const ding = "https://oapi.dingtalk.com/robot/send?access_token=T1#SECa"
	for _, v := range []string{
		ding + ",",
		" , " + ding + " ,, ",
		ding + "," + ding,
		ding + ", DingTalk=" + ding,
		ding + ",dingtalk = HTTPS://OAPI.DingTalk.com/robot/send?access_token=T1#SECa",
	} {
		got, err := ParseURLs(v)
		if err != nil || len(got) != 1 || got[0].Kind != DingTalk || got[0].secret != "SECa" {
			t.Errorf("%q: %v, %v; want the one DingTalk robot", v, got, err)
		}
	}
	// Another token is another robot.
	if got, err := ParseURLs(ding + ",https://oapi.dingtalk.com/robot/send?access_token=T2"); err != nil || len(got) != 2 {
		t.Errorf("two robots: %v, %v", got, err)
	}
	if got, err := ParseURLs(" ,, "); err != nil || len(got) != 0 {
		t.Errorf("only commas: %v, %v", got, err)
	}
}

// A Target printed in any way names its kind and host, never its URL or
// secret.
func TestTargetPrintsNoSecret(t *testing.T) {
	ts, err := ParseURLs("https://oapi.dingtalk.com/robot/send?access_token=TOKx#SECy")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(ts[0]), fmt.Sprintf("%v %+v %#v %s", ts, ts[0], ts[0], ts)} {
		if strings.Contains(s, "TOKx") || strings.Contains(s, "SECy") {
			t.Errorf("printed %q", s)
		}
	}
}

func TestSetGenericSecretKeepsAnEntrysOwn(t *testing.T) {
	ts, err := ParseURLs("https://a.example.com/x,https://b.example.com/x#own,https://oapi.dingtalk.com/robot/send")
	if err != nil {
		t.Fatal(err)
	}
	SetGenericSecret(ts, "NS")
	if ts[0].secret != "NS" || ts[1].secret != "own" || ts[2].secret != "" {
		t.Fatalf("secrets %q %q %q", ts[0].secret, ts[1].secret, ts[2].secret)
	}
}

// DESIGN §9: NOTIFY_ON is problems (the default), always or never.
func TestParseOn(t *testing.T) {
	for in, want := range map[string]On{"": OnProblems, "problems": OnProblems, "always": OnAlways, "never": OnNever} {
		if got, err := ParseOn(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"Always", "all", " never", "problem"} {
		if _, err := ParseOn(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
