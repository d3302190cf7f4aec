// Package notify tells people what an invocation did (DESIGN §9): it parses
// NOTIFY_URLS and NOTIFY_ON, builds one bounded message per invocation from a
// result.Result, renders and signs it in each robot's own format (DingTalk,
// Lark/Feishu, WeCom, Slack, or a generic signed JSON POST) and sends it to
// every target at once. It imports handler/result and the standard library
// alone.
//
// Secrets stay inside: a Target prints as its kind and host, and no error or
// Report carries a URL, a token, a secret or a signature.
package notify

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Kind is the kind of robot a target is, and so the format it is sent.
type Kind string

// The kinds of DESIGN §9.
const (
	DingTalk Kind = "dingtalk"
	Lark     Kind = "lark"
	WeCom    Kind = "wecom"
	Slack    Kind = "slack"
	Generic  Kind = "generic"
)

var kinds = []Kind{DingTalk, Lark, WeCom, Slack, Generic}

// kindByHost is the kind a robot's well-known host stands for.
var kindByHost = map[string]Kind{
	"oapi.dingtalk.com":   DingTalk,
	"open.feishu.cn":      Lark,
	"open.larksuite.com":  Lark,
	"qyapi.weixin.qq.com": WeCom,
	"hooks.slack.com":     Slack,
}

// Target is one entry of NOTIFY_URLS. Its URL and secret are unexported
// and never printed: String names the kind and the host alone.
type Target struct {
	Kind Kind
	// Host is what a log line may name.
	Host   string
	url    string
	secret string
}

// String is the kind and the host: never the URL, token or secret.
func (t Target) String() string { return string(t.Kind) + " " + t.Host }

// GoString keeps %#v as safe as %v.
func (t Target) GoString() string { return "notify.Target{" + t.String() + "}" }

// ParseURLs reads NOTIFY_URLS: comma-separated webhook URLs, each of the
// kind its host names (oapi.dingtalk.com, open.feishu.cn, open.larksuite.com,
// qyapi.weixin.qq.com, hooks.slack.com; any other host is generic) or the
// kind an explicit `kind=` prefix names (dingtalk=, lark=, wecom=, slack=,
// generic=). A signing secret follows the URL after `#` (DingTalk, Lark; a
// generic target's own secret instead of NOTIFY_SECRET); WeCom and Slack do
// not sign, so a secret for them is an error. Only https is accepted, and
// http for a loopback address. Spaces around an entry are ignored, and so
// are empty entries (a trailing comma), as in every list variable; an empty
// value is no targets. A URL given twice is one robot, sent one message: the
// repeat is dropped, or refused when it gives the robot another kind or
// secret. An error names the entry's position and, where known, its host:
// never its token or secret.
func ParseURLs(s string) ([]Target, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	entries := strings.Split(s, ",")
	targets := make([]Target, 0, len(entries))
	first := map[string]int{} // a robot's URL → its entry's index in targets
	for i, e := range entries {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		t, err := parseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("NOTIFY_URLS entry %d of %d: %w", i+1, len(entries), err)
		}
		key := robotKey(t.url)
		if j, seen := first[key]; seen {
			if targets[j].Kind != t.Kind || targets[j].secret != t.secret {
				return nil, fmt.Errorf("NOTIFY_URLS entry %d of %d: host %s: the same URL as an earlier entry, with another kind or secret", i+1, len(entries), t.Host)
			}
			continue
		}
		first[key] = len(targets)
		targets = append(targets, t)
	}
	return targets, nil
}

// robotKey is what tells robots apart: the URL with its scheme and host in
// lower case (they are case-insensitive; the path and the token are not).
func robotKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String()
}

// parseEntry reads one entry. Its errors never quote the entry: url.Parse's
// own errors do, so they are replaced, not wrapped.
func parseEntry(e string) (Target, error) {
	if e == "" {
		return Target{}, fmt.Errorf("empty")
	}
	kind, rest, err := cutKind(e)
	if err != nil {
		return Target{}, err
	}
	raw, secret, hasSecret := strings.Cut(rest, "#")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Target{}, fmt.Errorf("not a URL (want https://host/path)")
	}
	host := strings.ToLower(u.Hostname())
	if err := checkScheme(u.Scheme, host); err != nil {
		return Target{}, err
	}
	if kind == "" {
		kind = Generic
		if k, ok := kindByHost[host]; ok {
			kind = k
		}
	}
	if hasSecret && secret == "" {
		return Target{}, fmt.Errorf("host %s: empty secret after #", host)
	}
	if secret != "" && (kind == WeCom || kind == Slack) {
		return Target{}, fmt.Errorf("host %s: a %s robot does not sign: remove what follows #", host, kind)
	}
	return Target{Kind: kind, Host: host, url: raw, secret: secret}, nil
}

// cutKind splits an explicit `kind=` prefix off an entry. A prefix is
// letters before the first "=" that comes before "://".
func cutKind(e string) (Kind, string, error) {
	name, rest, ok := strings.Cut(e, "=")
	if name = strings.TrimSpace(name); !ok || strings.Contains(name, "://") || !isWord(name) {
		return "", e, nil
	}
	rest = strings.TrimSpace(rest)
	for _, k := range kinds {
		if strings.EqualFold(name, string(k)) {
			return k, rest, nil
		}
	}
	return "", "", fmt.Errorf("unknown kind %q (want dingtalk, lark, wecom, slack or generic)", name)
}

func isWord(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// checkScheme allows https, and http for a loopback host (tests, a local
// emulator).
func checkScheme(scheme, host string) error {
	switch strings.ToLower(scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(host) {
			return nil
		}
		return fmt.Errorf("host %s: http is allowed for a loopback address only: use https", host)
	}
	return fmt.Errorf("host %s: scheme must be https", host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SetGenericSecret gives every generic target without a secret of its own
// the secret that signs generic notifications (NOTIFY_SECRET).
func SetGenericSecret(targets []Target, secret string) {
	for i := range targets {
		if targets[i].Kind == Generic && targets[i].secret == "" {
			targets[i].secret = secret
		}
	}
}

// NeedsSecret says t is a generic target with no secret to sign with: it
// has none after # and NOTIFY_SECRET gave it none.
func (t Target) NeedsSecret() bool { return t.Kind == Generic && t.secret == "" }

// On is NOTIFY_ON: when a message is sent.
type On string

// The values of NOTIFY_ON.
const (
	OnProblems On = "problems"
	OnAlways   On = "always"
	OnNever    On = "never"
)

// ParseOn reads NOTIFY_ON; empty is problems, the default.
func ParseOn(s string) (On, error) {
	switch On(s) {
	case "", OnProblems:
		return OnProblems, nil
	case OnAlways, OnNever:
		return On(s), nil
	}
	return "", fmt.Errorf("NOTIFY_ON %q: want problems, always or never", s)
}
