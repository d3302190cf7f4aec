package handler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Instances of other accounts (DESIGN §3.1, roleArn) are reached through a
// scope: the region, and the role assumed in the account that owns them.
// Inside the handler a scope stands where a region stood — the key of an
// entry, of a pool of StartInstances calls, of a bound on concurrent calls —
// so that (account, region, ID) is one instance everywhere; the starter's
// call functions (start, describe, describeByTags) turn it back into a
// region and the assumed credentials. The scope of the function's own
// account is the bare region.

// scopeSep separates region and role in a scope; no region ID holds it.
const scopeSep = "|"

// scopeOf is the scope of region in the account of role ("": the
// function's own).
func scopeOf(region, role string) string {
	if role == "" {
		return region
	}
	return region + scopeSep + role
}

// splitScope is scopeOf's inverse.
func splitScope(scope string) (region, role string) {
	region, role, _ = strings.Cut(scope, scopeSep)
	return region, role
}

// regionOf is the region of a scope.
func regionOf(scope string) string {
	region, _ := splitScope(scope)
	return region
}

// scopeLabel names a scope in messages: the region, and the account when
// it is another's.
func scopeLabel(scope string) string {
	region, role := splitScope(scope)
	if role == "" {
		return region
	}
	return region + " (account " + accountOf(role) + ")"
}

// accountOf is the account ID of a RAM role's ARN, "" for none (nor for
// anything that is not such an ARN): acs:ram::<account id>:role/<name>, the
// account 1 to 32 digits, the name 1 to 128 of RAM's characters (letters,
// digits, '.', '-', '_', '/' for a path). Checked by hand, not by a regexp:
// every result asks (for the function's own account too), and compiling
// the regexp's 128-fold repetition cost the first invocation 2 ms (issue 9;
// TestRoleArnCheckMatchesItsRegexp holds the two equal).
func accountOf(role string) string {
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

// AssumeRoleInput is one STS AssumeRole call.
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int
}

// AssumedRole is what AssumeRole hands out: the role's credentials, until
// Expiration.
type AssumedRole struct {
	Credentials Credentials
	Expiration  time.Time
	RequestID   string
}

// STS is what the handler needs of STS: AssumeRole with the function's
// credentials. Errors are those of the ECS interface (*APIError with STS's
// code, *NetworkError, *PermanentError), never holding a secret.
type STS interface {
	AssumeRole(ctx context.Context, creds Credentials, in AssumeRoleInput) (*AssumedRole, error)
}

// assumeDuration is DurationSeconds of every AssumeRole (DESIGN §3.1); the
// credentials are reused until roleMargin before they expire.
const (
	assumeDuration = 900
	roleMargin     = 5 * time.Minute
)

// roleCache keeps the assumed credentials of each role, shared by the
// invocations of one process, and makes at most one AssumeRole call per role
// at a time. The credentials are never logged.
type roleCache struct {
	sts STS
	now func() time.Time

	mu    sync.Mutex
	roles map[string]*cachedRole
}

type cachedRole struct {
	mu      sync.Mutex // held during an AssumeRole call for the role
	creds   Credentials
	expires time.Time
}

func newRoleCache(sts STS) *roleCache {
	return &roleCache{sts: sts, now: time.Now, roles: map[string]*cachedRole{}}
}

// assumeRoleError is an AssumeRole that failed: the instances of its target
// are Failed (or Unfinished, when a retry can mend it) with STS's code and
// an Advice about the role's trust policy.
type assumeRoleError struct {
	role string
	err  error
}

func (e *assumeRoleError) Error() string {
	return fmt.Sprintf("STS AssumeRole %s: %v", e.role, e.err)
}

func (e *assumeRoleError) Unwrap() error { return e.err }

// adviceAssumeRole is what to do about a refused AssumeRole.
const adviceAssumeRole = "STS refused to assume the role: in the target account, the role's trust policy must let this function's account (or its role) assume it (ram/target-trust-policy.json), and the function's role needs sts:AssumeRole on it (ram/policy-assume.json)"

// credentials returns the credentials of role, from the cache while they are
// good for more than roleMargin, else from a new AssumeRole made with
// caller's credentials.
func (c *roleCache) credentials(ctx context.Context, caller Credentials, role, sessionName string) (Credentials, error) {
	if c == nil {
		return Credentials{}, &assumeRoleError{role: role, err: &PermanentError{Op: "AssumeRole", Code: CodeClientError, Err: fmt.Errorf("no STS client: STS_ENDPOINT or the SDK")}}
	}
	c.mu.Lock()
	cr, ok := c.roles[role]
	if !ok {
		cr = &cachedRole{}
		c.roles[role] = cr
	}
	c.mu.Unlock()
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.creds.Empty() && c.now().Before(cr.expires.Add(-roleMargin)) {
		return cr.creds, nil
	}
	out, err := c.sts.AssumeRole(ctx, caller, AssumeRoleInput{RoleArn: role, RoleSessionName: sessionName, DurationSeconds: assumeDuration})
	if err != nil {
		return Credentials{}, &assumeRoleError{role: role, err: err}
	}
	cr.creds, cr.expires = out.Credentials, out.Expiration
	return cr.creds, nil
}

// sessionName is AssumeRole's RoleSessionName for an invocation:
// start-ecs-<request id>, within STS's 2 to 64 characters of [\w.@-].
func sessionName(requestID string) string {
	var b strings.Builder
	b.WriteString("start-ecs-")
	for _, r := range requestID {
		if b.Len() >= 64 {
			break
		}
		if r == '-' || r == '.' || r == '@' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
