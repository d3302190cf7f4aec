package ecsapitest

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// MatchesRegexp holds a hand-written check (one that replaced a regexp
// compiled at start-up) equal to its regexp: over IDs and regions at and
// past their bounds, and 20,000 random strings of the characters that
// matter, check and re.MatchString agree.
func MatchesRegexp(t *testing.T, re *regexp.Regexp, check func(string) bool) {
	t.Helper()
	inputs := []string{"", "-", "i-", "i-abcdef", "i-abcde", "i-ABCDEF", "i-abcdef\n", " i-abcdef", "i-" + strings.Repeat("a", 30),
		"i-" + strings.Repeat("a", 31), "cn-hangzhou", "cn-hangzhou-", "-cn", "cn--x", "cn", "1cn-x", "cn-hangzhou-1", "us-east-1",
		"cn-hangzhou.evil.com", "cn-hangzhou/x", "cn-hangzhou\x00", "cn-hangzhoü", "i-bp67acfmxazb4p0001"}
	rng := rand.New(rand.NewPCG(9, 9)) //nolint:gosec // a fixed seed, for inputs a test can repeat; nothing secret
	alphabet := []rune("ai-z09A.\n/ü")
	for range 20000 {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			b.WriteString("i-")
		}
		for range rng.IntN(36) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if got, want := check(in), re.MatchString(in); got != want {
			t.Errorf("%s: %q: got %v, the regexp says %v", re, in, got, want)
		}
	}
}
