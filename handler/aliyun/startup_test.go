package aliyun

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

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
