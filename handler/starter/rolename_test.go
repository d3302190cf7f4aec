package starter

import (
	"strings"
	"testing"
	"unicode"
)

// STS's RoleSessionName is 2 to 64 characters of [\w.@-], whatever the
// function is named.
func TestSessionNameWithinSTSRules(t *testing.T) {
	for _, fn := range []string{"", "start-ecs", "a", strings.Repeat("x", 64), "名字", "fn name/with:odd*chars", "-"} {
		s := sessionName(fn)
		if len(s) < 2 || len(s) > 64 || !strings.HasPrefix(s, "start-ecs") || strings.HasSuffix(s, "-") {
			t.Errorf("sessionName(%q) = %q", fn, s)
		}
		for _, r := range s {
			if !strings.ContainsRune("-.@_", r) && !unicode.IsLetter(r) && !unicode.IsDigit(r) || r > unicode.MaxASCII {
				t.Errorf("sessionName(%q) = %q holds %q", fn, s, r)
			}
		}
	}
	if s := sessionName("start-ecs-prod"); s != "start-ecs-start-ecs-prod" {
		t.Errorf("%q", s)
	}
}
