package ecsapi

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// accountOf accepts exactly the role ARNs the regexp it replaced did, and
// gives the same account.
func TestRoleArnCheckMatchesItsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^acs:ram::([0-9]{1,32}):role/([A-Za-z0-9._\-/]{1,128})$`)
	inputs := []string{"", "acs:ram::", "acs:ram::1:role/", "acs:ram::1:role/a", "acs:ram::1222333444555666:role/start-ecs-target",
		"acs:ram::1222333444555666:role/path/to/Role_1.x", "ACS:ram::1:role/a", "acs:ram::1:Role/a", "acs:ram::1a:role/a",
		"acs:ram::" + strings.Repeat("1", 32) + ":role/a", "acs:ram::" + strings.Repeat("1", 33) + ":role/a",
		"acs:ram::1:role/" + strings.Repeat("r", 128), "acs:ram::1:role/" + strings.Repeat("r", 129), "acs:ram::1:role/a:role/b",
		"acs:ram::1:role/a\n", " acs:ram::1:role/a", "acs:ram::1:role/ä", "acs:ram::1:role/a b", "acs:ram:::role/a"}
	rng := rand.New(rand.NewPCG(11, 11))
	pieces := []string{"acs:ram::", "1", "0", ":role/", "a", "Z", ".", "-", "_", "/", ":", "ä", " ", "role", "x"}
	for range 20000 {
		var b strings.Builder
		if rng.IntN(3) > 0 {
			b.WriteString("acs:ram::")
		}
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		want := ""
		if m := re.FindStringSubmatch(in); m != nil {
			want = m[1]
		}
		if got := AccountOf(in); got != want {
			t.Errorf("accountOf(%q) = %q, the regexp says %q", in, got, want)
		}
	}
}

// An instance is (account, region, ID) everywhere (DESIGN §4): a scope's
// key form is the region alone for the function's own account, so the keys
// and messages of a single account read as before scopes existed.
func TestScopeKeyForm(t *testing.T) {
	own, other := ScopeOf("cn-hangzhou", ""), ScopeOf("cn-hangzhou", "acs:ram::1222333444555666:role/start-ecs-target")
	if own.String() != "cn-hangzhou" || InstanceKey(own, "i-a") != "cn-hangzhou/i-a" || own.Account() != "" || ScopeLabel(own) != "cn-hangzhou" {
		t.Errorf("own account: %q %q %q %q", own, InstanceKey(own, "i-a"), own.Account(), ScopeLabel(own))
	}
	if InstanceKey(own, "i-a") == InstanceKey(other, "i-a") || other.Account() != "1222333444555666" ||
		ScopeLabel(other) != "cn-hangzhou (account 1222333444555666)" {
		t.Errorf("another account: %q %q %q", InstanceKey(other, "i-a"), other.Account(), ScopeLabel(other))
	}
}
