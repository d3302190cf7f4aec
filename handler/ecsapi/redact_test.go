package ecsapi

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// RedactSecrets skips its regexps only for texts they cannot match.
func TestSecretParamPrecheckMissesNothing(t *testing.T) {
	inputs := []string{"", "InvalidInstanceId.NotFound", "i-bp67acfmxazb4p0001", "Starting",
		"Get http://ecs.cn-hangzhou.aliyuncs.com/?Signature=abc", "SIGNATURE=abc", "securityToken%3Dxyz",
		`{"AccessKeySecret": "x"}`, "ſignature=abc", "accesskeyſecret=1", "https://h/p?q=1", "x://y?z"}
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"Signature", "=", "%3D", "://", "?", "a", " ", "Token", "Security", "ſ", "\"", ":", "K"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(words[rng.IntN(len(words))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if mayHoldSecretParams(in) {
			continue
		}
		if signedQueryRE().MatchString(in) || secretParamRE().MatchString(in) {
			t.Errorf("%q skips the scrubber's regexps but matches one", in)
		}
	}
}

// DESIGN §7: secrets are removed by one function, whatever carries them:
// a signed URL's query, a secret parameter plain, encoded or as JSON, and
// an echoed StringToSign.
func TestRedactSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"Get https://ecs.cn-hangzhou.aliyuncs.com/?Signature=abc&SecurityToken=xyz: EOF": "Get https://ecs.cn-hangzhou.aliyuncs.com/?[redacted] EOF",
		`{"SecurityToken": "CAIS-token"}`:                                                `{"SecurityToken": "[redacted]"}`,
		"signature%3Dabc%26x":                                                            "signature%3D[redacted]",
		"bad sign; server string to sign is: GET&%2F&SecurityToken%3Dxyz":                "bad sign;",
		"InvalidInstanceId.NotFound":                                                     "InvalidInstanceId.NotFound",
	} {
		if got := RedactSecrets(in); got != want {
			t.Errorf("RedactSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}
