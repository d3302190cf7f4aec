package aliyun

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The scrubber skips its regexps only for texts they cannot match.
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

// The check that replaced a regexp compiled at start-up accepts
// exactly what the regexp did (the handler tests the other checks so).
func TestHostSafeRegionMatchesItsRegexp(t *testing.T) {
	checks := []struct {
		re    *regexp.Regexp
		check func(string) bool
	}{
		{regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`), hostSafeRegion},
	}
	inputs := []string{"", "-", "i-", "i-abcdef", "i-abcde", "i-ABCDEF", "i-abcdef\n", " i-abcdef", "i-" + strings.Repeat("a", 30),
		"i-" + strings.Repeat("a", 31), "cn-hangzhou", "cn-hangzhou-", "-cn", "cn--x", "cn", "1cn-x", "cn-hangzhou-1", "us-east-1",
		"cn-hangzhou.evil.com", "cn-hangzhou/x", "cn-hangzhou\x00", "cn-hangzhoü", "i-bp67acfmxazb4p0001"}
	rng := rand.New(rand.NewPCG(9, 9))
	const alphabet = "ai-z09A.\n/ü"
	for range 20000 {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			b.WriteString("i-")
		}
		for range rng.IntN(36) {
			b.WriteString(string([]rune(alphabet)[rng.IntN(len([]rune(alphabet)))]))
		}
		inputs = append(inputs, b.String())
	}
	for _, c := range checks {
		for _, in := range inputs {
			if got, want := c.check(in), c.re.MatchString(in); got != want {
				t.Errorf("%s: %q: got %v, the regexp says %v", c.re, in, got, want)
			}
		}
	}
}
