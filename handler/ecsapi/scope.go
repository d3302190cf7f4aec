package ecsapi

import (
	"strings"
)

// Scope is where an instance lives. Instances of other accounts (DESIGN
// §3.1, roleArn) are reached through a scope: the region, and the role assumed in the account that owns them.
// Inside the handler a scope stands where a region stood — the key of an
// entry, of a pool of StartInstances calls, of a bound on concurrent calls —
// so that (account, region, ID) is one instance everywhere; the starter's
// call functions (start, describe, describeByTags) turn it back into a
// region and the assumed credentials. The scope of the function's own
// account has no Role.
type Scope struct {
	Region string
	Role   string // the RAM role's ARN, "" for the function's own account
}

// ScopeOf is the scope of region in the account of role ("": the
// function's own).
func ScopeOf(region, role string) Scope { return Scope{Region: region, Role: role} }

// String is the scope as one string: the region, and "|role" when it is
// another account's (the form of instance keys and of the starter's
// messages).
func (s Scope) String() string {
	if s.Role == "" {
		return s.Region
	}
	return s.Region + "|" + s.Role
}

// Account is the account ID of the scope's role, "" for the function's own.
func (s Scope) Account() string { return AccountOf(s.Role) }

// ScopeLabel names a scope in messages: the region, and the account when
// it is another's.
func ScopeLabel(s Scope) string {
	if s.Role == "" {
		return s.Region
	}
	return s.Region + " (account " + AccountOf(s.Role) + ")"
}

// AccountOf is the account ID of a RAM role's ARN, "" for none (nor for
// anything that is not such an ARN): acs:ram::<account id>:role/<name>, the
// account 1 to 32 digits, the name 1 to 128 of RAM's characters (letters,
// digits, '.', '-', '_', '/' for a path). Checked by hand, not by a regexp:
// every result asks (for the function's own account too), and compiling
// the regexp's 128-fold repetition cost the first invocation 2 ms
// (TestRoleArnCheckMatchesItsRegexp holds the two equal).
func AccountOf(role string) string {
	const prefix = "acs:ram::"
	rest, ok := strings.CutPrefix(role, prefix)
	if !ok {
		return ""
	}
	account, name, ok := strings.Cut(rest, ":role/")
	if !ok || len(account) < 1 || len(account) > 32 || len(name) < 1 || len(name) > 128 {
		return ""
	}
	for i := range len(account) {
		if c := account[i]; c < '0' || c > '9' {
			return ""
		}
	}
	for i := range len(name) {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == '/':
		default:
			return ""
		}
	}
	return account
}

// TagList renders tag pairs for a message: env=dev, team=*.
func TagList(tags []Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

// CarriesAll says whether tags hold every pair.
func CarriesAll(tags map[string]string, pairs []Tag) bool {
	for _, t := range pairs {
		if !t.matches(tags) {
			return false
		}
	}
	return true
}

// InstanceKey keys an instance by its scope and ID (DESIGN §4: an
// instance is the pair everywhere).
func InstanceKey(scope Scope, id string) string { return scope.String() + "/" + id }
