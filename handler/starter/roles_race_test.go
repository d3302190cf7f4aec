package starter

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
)

// countingSTS answers every AssumeRole with credentials whose expiry is
// unreadable (zero), and counts the calls.
type countingSTS struct{ calls atomic.Int64 }

func (s *countingSTS) AssumeRole(context.Context, ecsapi.Credentials, ecsapi.AssumeRoleInput) (*ecsapi.AssumedRole, error) {
	s.calls.Add(1)
	return &ecsapi.AssumedRole{Credentials: ecsapi.Credentials{AccessKeyID: "STS.race", AccessKeySecret: "x", SecurityToken: "t"}}, nil
}

// DESIGN §3.1 roleArn: credentials with an unusable expiry serve their
// invocation, one AssumeRole per invocation however many of its calls need
// the role at once. A call of the invocation that arrived just as the
// AssumeRole ended (its in-flight mark cleared, the credentials not yet held
// by the invocation) made a second AssumeRole: TestUnusableExpiryServesOneInvocation
// saw 3 calls for two invocations about once in ten runs under -race.
func TestOneAssumeRolePerInvocationWhateverTheTiming(t *testing.T) {
	const rounds, callers = 300, 8
	sts := &countingSTS{}
	c := NewRoleCache(sts)
	for round := range rounds {
		s := NewSession("fn", "cn-hangzhou", "")
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				// Calls keep arriving while the AssumeRole ends.
				for range 20 {
					if _, err := c.credentials(context.Background(), ecsapi.Credentials{AccessKeyID: "caller"}, "acs:ram::1:role/r", s); err != nil {
						t.Error(err)
					}
					runtime.Gosched()
				}
			})
		}
		wg.Wait()
		if n := sts.calls.Load(); n != int64(round+1) {
			t.Fatalf("round %d: %d AssumeRole calls in all, want one per invocation (%d)", round, n, round+1)
		}
	}
}
