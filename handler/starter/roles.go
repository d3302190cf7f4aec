package starter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// assumeDuration is DurationSeconds of every AssumeRole (DESIGN §3.1); the
// credentials are reused until roleMargin before they expire.
const (
	assumeDuration = 900
	roleMargin     = 5 * time.Minute
)

// sessionPolicy is the Policy of every AssumeRole: the assumed credentials
// may call the ECS actions the function calls, and nothing else, whatever
// the target role allows (DESIGN §3.1).
const sessionPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:StartInstances","ecs:DescribeInstances","ecs:DescribeInstanceStatus"],"Resource":"*"}]}`

// RoleCache keeps the assumed credentials of each role, shared by the
// invocations of one process, and makes at most one AssumeRole call per role
// at a time. An invocation waits for another's call in flight only until its
// own deadline (DESIGN §5: no wait is exempt): no lock is held across a
// call. The credentials are never logged.
type RoleCache struct {
	sts ecsapi.STS
	now func() time.Time

	mu    sync.Mutex
	roles map[string]*cachedRole
}

type cachedRole struct {
	creds   ecsapi.Credentials
	expires time.Time
	// inflight is the AssumeRole call being made for the role, nil when
	// none; its done is closed when it ends.
	inflight *assumeCall
}

// assumeCall is one AssumeRole call, which the invocations that need the
// role while it is out wait for.
type assumeCall struct {
	done chan struct{}
	// Set before done is closed.
	out *ecsapi.AssumedRole
	err error
	// session is the invocation that made the call: credentials whose
	// expiry is unusable are for it alone.
	session *Session
}

// NewRoleCache is an empty cache of the roles sts assumes.
func NewRoleCache(sts ecsapi.STS) *RoleCache {
	return &RoleCache{sts: sts, now: time.Now, roles: map[string]*cachedRole{}}
}

// Session is one invocation's side of AssumeRole: what it sends, and
// the credentials STS gave it with an expiry in the past or unreadable,
// which serve this invocation only (DESIGN §3.1) — neither cached for the
// next invocation nor assumed again before each call.
type Session struct {
	name, externalID, region string

	mu  sync.Mutex
	own map[string]ecsapi.Credentials
}

// NewSession is the session of an invocation of the function named
// function, in region (its own), sending externalID ("" for none).
func NewSession(function, region, externalID string) *Session {
	return &Session{name: sessionName(function), externalID: externalID, region: region}
}

func (s *Session) held(role string) (ecsapi.Credentials, bool) {
	if s == nil {
		return ecsapi.Credentials{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.own[role]
	return c, ok
}

func (s *Session) hold(role string, c ecsapi.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.own == nil {
		s.own = map[string]ecsapi.Credentials{}
	}
	s.own[role] = c
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
const adviceAssumeRole = "STS refused to assume the role: in the target account, the role's trust policy must let this function's account (or its role) assume it, with the sts:ExternalId condition matching ROLE_EXTERNAL_ID when set (ram/target-trust-policy.json), and the function's role needs sts:AssumeRole on it (ram/policy-assume.json)"

// credentials returns the credentials of role: those this invocation holds,
// else the cache's while they are good for more than roleMargin, else from
// a new AssumeRole made with caller's credentials — or the one another
// invocation has in flight for the role, waited for until ctx ends. When
// ctx ends first, the error is a *notSentError: the call that needed the
// credentials was not sent.
func (c *RoleCache) credentials(ctx context.Context, caller ecsapi.Credentials, role string, s *Session) (ecsapi.Credentials, error) {
	if c == nil {
		return ecsapi.Credentials{}, &assumeRoleError{role: role, err: &ecsapi.PermanentError{Op: "AssumeRole", Code: result.CodeClientError, Err: fmt.Errorf("no STS client: STS_ENDPOINT or the SDK")}}
	}
	for {
		c.mu.Lock()
		// Under c.mu: assume holds an invocation's own credentials in s
		// before it lets the next call of the role be made, so a call of
		// this invocation either finds them here or waits for the call.
		if creds, ok := s.held(role); ok {
			c.mu.Unlock()
			return creds, nil
		}
		cr, ok := c.roles[role]
		if !ok {
			cr = &cachedRole{}
			c.roles[role] = cr
		}
		if !cr.creds.Empty() && c.now().Before(cr.expires.Add(-roleMargin)) {
			creds := cr.creds
			c.mu.Unlock()
			return creds, nil
		}
		call := cr.inflight
		mine := call == nil
		if mine {
			call = &assumeCall{done: make(chan struct{}), session: s}
			cr.inflight = call
		}
		c.mu.Unlock()

		if mine {
			c.assume(ctx, caller, role, s, cr, call)
		} else {
			select {
			case <-call.done:
			case <-ctx.Done():
				return ecsapi.Credentials{}, &notSentError{why: "it waited for STS AssumeRole " + role + ", which another invocation has in flight", err: ctx.Err()}
			}
		}
		switch {
		case call.err == nil && (call.session == s || !call.out.Expiration.IsZero()):
			return call.out.Credentials, nil
		case call.err == nil:
			// Another invocation's credentials, for it alone: assume
			// the role for this one.
		case isContextError(call.err) && ctx.Err() != nil:
			return ecsapi.Credentials{}, &notSentError{why: "STS AssumeRole " + role + " had not answered", err: ctx.Err()}
		case isContextError(call.err) && !mine:
			// The other invocation's deadline ended its call, not ours:
			// make one.
		default:
			return ecsapi.Credentials{}, &assumeRoleError{role: role, err: call.err}
		}
	}
}

// assume makes call, the AssumeRole of role, and keeps what it gives: in
// the cache while its expiry can be read and lies ahead, else in s alone.
func (c *RoleCache) assume(ctx context.Context, caller ecsapi.Credentials, role string, s *Session, cr *cachedRole, call *assumeCall) {
	in := ecsapi.AssumeRoleInput{RoleArn: role, DurationSeconds: assumeDuration, Policy: sessionPolicy}
	if s != nil {
		in.RoleSessionName, in.ExternalID, in.Region = s.name, s.externalID, s.region
	} else {
		in.RoleSessionName = sessionName("")
	}
	out, err := c.sts.AssumeRole(ctx, caller, in)
	if err == nil && !out.Expiration.After(c.now()) {
		out.Expiration = time.Time{} // in the past: as unreadable
	}
	c.mu.Lock()
	call.out, call.err = out, err
	if err == nil && !out.Expiration.IsZero() {
		cr.creds, cr.expires = out.Credentials, out.Expiration
	}
	if err == nil && out.Expiration.IsZero() && s != nil {
		s.hold(role, out.Credentials) // before inflight is cleared (credentials)
	}
	cr.inflight = nil
	c.mu.Unlock()
	close(call.done)
}

// isContextError says whether err is a context's end.
func isContextError(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// sessionName is AssumeRole's RoleSessionName: start-ecs-<function name>,
// the same for every invocation, so that the target account's ActionTrail
// names the function whatever invocation made the call (DESIGN §3.1);
// within STS's 2 to 64 characters of [\w.@-].
func sessionName(function string) string {
	var b strings.Builder
	b.WriteString("start-ecs")
	for i, r := range function {
		if b.Len() >= 64 {
			break
		}
		if i == 0 {
			b.WriteByte('-')
		}
		if r == '-' || r == '.' || r == '@' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return strings.TrimRight(b.String(), "-")
}
