package starter

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

var budgetBackoff = Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5, Window: 20 * time.Millisecond}

func throttled() error {
	return &ecsapi.APIError{HTTPStatus: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control.", RequestID: "req-throttle"}
}

func unavailable() error {
	return &ecsapi.APIError{HTTPStatus: 503, Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server.", RequestID: "req-503"}
}

// DESIGN §7: every kind of call has the same transient budget, kept by the
// one retry loop: Backoff.Attempts calls, then Unfinished (a lookup: not ok).
// Throttling is bounded by the deadline instead (pace_test.go).
func TestEachKindKeepsTheTransientBudget(t *testing.T) {
	stoppedInfo := func(_ string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
		out := &ecsapi.DescribeInstancesOutput{RequestID: "req-d"}
		for _, id := range ids {
			out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, Status: "Stopped"})
		}
		return out, nil
	}
	for _, g := range []Group{
		{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: ecsapi.SuccessFirst},
		{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: ecsapi.AllTogether},
		{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: ecsapi.SuccessFirst, DryRun: true},
		{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: ecsapi.AllTogether, DryRun: true},
	} {
		t.Run(g.BatchOptimization+map[bool]string{true: "/dry run"}[g.DryRun], func(t *testing.T) {
			f := &ecsapitest.ECS{Start: func(ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) { return nil, unavailable() }, Describe: stoppedInfo}
			s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
			res, _ := s.startAll(context.Background(), ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, []Group{g})
			if n := len(f.Calls()); n != budgetBackoff.Attempts {
				t.Fatalf("%d calls, want the budget of %d", n, budgetBackoff.Attempts)
			}
			for _, id := range g.InstanceIDs {
				if ir := outcomeOf(t, res, id); ir.Outcome != result.Unfinished || ir.Code != "ServiceUnavailable" {
					t.Fatalf("%s = %+v", id, ir)
				}
			}
		})
	}
	t.Run("lookup", func(t *testing.T) {
		f := &ecsapitest.ECS{Describe: func(string, []string) (*ecsapi.DescribeInstancesOutput, error) { return nil, unavailable() }}
		s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
		_, v, ok := s.newRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}).Lookup(context.Background(), ecsapi.Scope{Region: "cn-hangzhou"}, []string{"i-a"})
		if ok || v.Class != transient || v.Code != "ServiceUnavailable" || f.Describes != budgetBackoff.Attempts {
			t.Fatalf("lookup = %+v, %v after %d calls, want not ok after %d", v, ok, f.Describes, budgetBackoff.Attempts)
		}
	})
}

// DESIGN §7: settle rounds (an instance that takes its time to stop)
// are bounded by the deadline alone and never use up the transient budget:
// after more settle rounds than Backoff.Attempts, one throttle is still
// retried — in AllTogether as in SuccessFirst.
func TestSettleRoundsLeaveTheTransientBudget(t *testing.T) {
	for _, batch := range []string{ecsapi.SuccessFirst, ecsapi.AllTogether} {
		t.Run(batch, func(t *testing.T) {
			fl := ecsapitest.NewFleet(map[string]string{"i-slow": "Stopping"})
			var describes, throttle atomic.Int32
			rounds := int32(3 * budgetBackoff.Attempts)
			f := &ecsapitest.ECS{
				Describe: func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
					if describes.Add(1) == rounds {
						fl.Set("i-slow", "Stopped")
						throttle.Store(1)
					}
					return fl.DescribeIDs(region, ids)
				},
				Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
					if throttle.CompareAndSwap(1, 0) {
						return nil, throttled()
					}
					return fl.Start(in)
				},
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
			res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, []Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-slow"}, BatchOptimization: batch}})
			if ir := outcomeOf(t, res, "i-slow"); ir.Outcome != result.Started {
				t.Fatalf("after %d settle rounds and one throttle: %+v", describes.Load(), ir)
			}
		})
	}
}

// The SuccessFirst halving runs both halves: with bad IDs everywhere each good
// ID still starts, and no instance is sent twice once accepted.
func TestHalvingStartsEveryGoodInstanceOnce(t *testing.T) {
	all := ecsapitest.IDs(64, "h")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(all))
	for i := 0; i < len(all); i += 9 {
		delete(fl.Status, all[i])
	}
	f := fl.ECS()
	var mu sync.Mutex
	accepted := map[string]int{}
	inner := f.Start
	f.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		out, err := inner(in)
		if err == nil {
			mu.Lock()
			for _, r := range out.Responses {
				if r.Code == "200" {
					accepted[r.InstanceID]++
				}
			}
			mu.Unlock()
		}
		return out, err
	}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: all, BatchOptimization: ecsapi.SuccessFirst})
	for i, id := range all {
		want := result.Started
		if i%9 == 0 {
			want = result.Failed
		}
		if ir := outcomeOf(t, res, id); ir.Outcome != want {
			t.Fatalf("%s = %+v, want %s", id, ir, want)
		}
		if accepted[id] > 1 {
			t.Fatalf("%s was accepted %d times", id, accepted[id])
		}
	}
}

// A lookup whose context has ended before any call is transient (the
// deadline), never a permanent failure with no code.
func TestLookupAfterTheDeadlineIsTransient(t *testing.T) {
	f := &ecsapitest.ECS{Describe: func(string, []string) (*ecsapi.DescribeInstancesOutput, error) {
		t.Error("a call was made after the deadline")
		return nil, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
	_, v, ok := s.newRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}).Lookup(ctx, ecsapi.Scope{Region: "cn-hangzhou"}, []string{"i-a"})
	if ok || v.Class != transient || v.Code != result.CodeDeadlineExceeded {
		t.Fatalf("lookup = %+v, %v, want not ok, transient %s", v, ok, result.CodeDeadlineExceeded)
	}
}

// DESIGN §7: work undone at the deadline is Unfinished with ECS's last
// answer. A retry in flight when the deadline comes (ECS throttled, the
// backoff ended just before the deadline, the call was cut off) keeps that
// answer, Throttling.User, and says the call may have taken effect; it is
// not DeadlineExceeded (seen once on a 2-core machine in the e2e test "503
// with Retry-After when ECS throttles past HTTP_WAIT").
func TestACallCutOffByTheDeadlineKeepsECSsLastAnswer(t *testing.T) {
	for _, batch := range []string{ecsapi.SuccessFirst, ecsapi.AllTogether} {
		t.Run(batch, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			var calls atomic.Int32
			f := &ecsapitest.ECS{Start: func(ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				if calls.Add(1) == 1 {
					return nil, throttled()
				}
				<-ctx.Done() // the retry is in flight when the deadline comes
				return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "fake", Err: ctx.Err()}
			}}
			s := &Starter{ECS: f, MaxConcurrent: 1, Backoff: budgetBackoff}
			res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, []Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-cut0000001"}, BatchOptimization: batch}})
			ir := outcomeOf(t, res, "i-cut0000001")
			if calls.Load() != 2 || ir.Outcome != result.Unfinished || ir.Code != "Throttling.User" || !ir.Retryable || !strings.Contains(ir.Message, "may or may not have taken effect") {
				t.Fatalf("after %d calls: %s %s %q, want Unfinished Throttling.User saying the retry in flight may have taken effect", calls.Load(), ir.Outcome, ir.Code, ir.Message)
			}
		})
	}
}
