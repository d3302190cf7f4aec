package starter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// rateLimitedECS starts every instance it is asked to, but accepts at most one
// call per interval (the flow control of an account), throttling the rest;
// startedIn counts the accepted calls that named each instance.
func rateLimitedECS(interval time.Duration) (f *ecsapitest.ECS, startedIn func() map[string]int) {
	var mu sync.Mutex
	var last time.Time
	counts := map[string]int{}
	f = &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if now.Sub(last) < interval {
			return nil, throttled()
		}
		last = now
		for _, id := range in.InstanceIDs {
			counts[id]++
		}
		return instantECS().Start(in)
	}}
	return f, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return counts
	}
}

// Many groups against ECS's flow control. Each group backing off on
// its own spent its attempt budget while the others were served, and left
// instances Unfinished though ECS kept accepting calls (10,000 instances at
// 20 calls/s: 800 Unfinished). Throttling while other calls are accepted goes
// through the shared pace and spends no budget: every instance starts, in
// exactly one accepted call.
func TestThrottledGroupsAllStartWhileECSAcceptsOthers(t *testing.T) {
	f, startedIn := rateLimitedECS(2 * time.Millisecond)
	var groups []Group
	var all []string
	for g := range 40 {
		var ids []string
		for i := range 3 {
			ids = append(ids, fmt.Sprintf("i-pace%03d%03d", g, i))
		}
		all = append(all, ids...)
		groups = append(groups, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: ids, BatchOptimization: ecsapi.SuccessFirst})
	}
	s := &Starter{ECS: f, MaxConcurrent: 8, Backoff: Backoff{Base: time.Millisecond, Max: 20 * time.Millisecond, Attempts: 3}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, groups)
	counts := startedIn()
	for _, id := range all {
		if ir := outcomeOf(t, res, id); ir.Outcome != result.Started {
			t.Errorf("%s = %s %s, want Started", id, ir.Outcome, ir.Code)
		}
		if counts[id] != 1 {
			t.Errorf("%s was in %d accepted calls, want 1", id, counts[id])
		}
	}
	if len(f.Calls()) <= len(groups) {
		t.Fatalf("%d calls for %d groups: ECS throttled none, the test tests nothing", len(f.Calls()), len(groups))
	}
}

// DESIGN §7: "while ECS accepts no call of a scope, throttled calls wait —
// bounded by the deadline, not by a count of attempts — until a call is
// accepted again or the next minute's window opens (plus jitter); an
// invocation with 60 s or more left never ends Unfinished for throttling that
// lasts one window." Scaled down: the window is 300 ms (Backoff.Window) and
// ECS's quota of the first window is spent, for every group of the scope.
// Before: each group spent its 5 attempts within milliseconds and ended
// Unfinished, with the deadline seconds away.
func TestThrottlingForAWindowWaitsForTheNextOne(t *testing.T) {
	const window = 300 * time.Millisecond
	b := Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5, Window: window}
	begin := time.Now()
	f := &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		if time.Since(begin) < window {
			return nil, throttled()
		}
		return instantECS().Start(in)
	}}
	s := &Starter{ECS: f, MaxConcurrent: 8, Backoff: b}
	var groups []Group
	for g := range 5 {
		groups = append(groups, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{fmt.Sprintf("i-window%04d", g)}, BatchOptimization: ecsapi.SuccessFirst})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*window+lastPollTime)
	defer cancel()
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, groups)
	for _, g := range groups {
		if ir := outcomeOf(t, res, g.InstanceIDs[0]); ir.Outcome != result.Started {
			t.Errorf("%s = %s %s, want Started once the next window opened", g.InstanceIDs[0], ir.Outcome, ir.Code)
		}
	}
	// Each group: its backoff attempts, at most one call at a wall-clock
	// window's start that may still fall in ECS's window, and one after.
	if n, most := len(f.Calls()), len(groups)*(b.Attempts+2); n > most {
		t.Errorf("%d calls, want at most %d: waiting for the window is not retrying", n, most)
	}
}

// Throttling that never ends is Unfinished at the deadline, with ECS's code,
// having called a few times per window, not in a loop.
func TestEndlessThrottlingWaitsOutTheDeadline(t *testing.T) {
	const window = 100 * time.Millisecond
	b := Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5, Window: window}
	f := &ecsapitest.ECS{Start: func(ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) { return nil, throttled() }}
	s := &Starter{ECS: f, MaxConcurrent: 8, Backoff: b}
	deadline := lastPollTime + 5*window
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	begin := time.Now()
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, []Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-never0001"}, BatchOptimization: ecsapi.SuccessFirst}})
	if ir := outcomeOf(t, res, "i-never0001"); ir.Outcome != result.Unfinished || ir.Code != "Throttling.User" {
		t.Errorf("%+v, want Unfinished with Throttling.User", ir)
	}
	if took := time.Since(begin); took < deadline-lastPollTime-50*time.Millisecond || took > deadline+time.Second {
		t.Errorf("ended after %s; the deadline was %s away", took, deadline)
	}
	if n, most := len(f.Calls()), 6*(b.Attempts+2); n > most {
		t.Errorf("%d calls in %d windows, want at most %d", n, 6, most)
	}
}

// When ECS's pace leaves no turn before the deadline, no call is sent to be
// cut off: the instances are Unfinished with ECS's last answer (throttling),
// not DeadlineExceeded (seen in e2e: HTTP 503 after HTTP_WAIT).
func TestNoCallWhenThePaceLeavesNoTurnBeforeTheDeadline(t *testing.T) {
	s := &Starter{MaxConcurrent: 1, Backoff: Backoff{Base: time.Millisecond, Max: time.Hour, Attempts: 100}}
	r := s.newRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	s.ECS = &ecsapitest.ECS{Start: func(ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		calls++
		if calls == 1 {
			pace := r.paceOf(ecsapi.Scope{Region: "cn-hangzhou"}, apiStart)
			pace.mu.Lock()
			pace.interval = time.Hour // the next turn is far past the deadline
			pace.mu.Unlock()
			return nil, throttled()
		}
		<-ctx.Done() // a call in flight when the deadline comes
		return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "fake", Err: ctx.Err()}
	}}
	r.successFirst(ctx, ecsapi.Scope{Region: "cn-hangzhou"}, []string{"i-paced0001"})
	ir := r.results[ecsapi.InstanceKey(ecsapi.Scope{Region: "cn-hangzhou"}, "i-paced0001")]
	if ir.Outcome != result.Unfinished || ir.Code != "Throttling.User" || calls != 1 {
		t.Fatalf("after %d calls: %s %s, want Unfinished with Throttling.User after 1 call", calls, ir.Outcome, ir.Code)
	}
}

// ECS's flow control counts per account and region: a region whose calls
// are throttled is paced, and the others are not slowed by it. Here
// cn-hangzhou throttles every call after its first (a quota spent), and
// cn-shanghai throttles none: its calls go unpaced, its instances all start,
// and the run ends at the deadline that hangzhou's instances wait out, never waiting on
// hangzhou's pace.
func TestThePaceIsPerRegion(t *testing.T) {
	var mu sync.Mutex
	hangzhou := 0
	f := &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		if in.RegionID == "cn-hangzhou" {
			mu.Lock()
			hangzhou++
			n := hangzhou
			mu.Unlock()
			if n > 1 {
				return nil, throttled()
			}
		}
		return instantECS().Start(in)
	}}
	var groups []Group
	for g := range 6 {
		for _, region := range []string{"cn-hangzhou", "cn-shanghai"} {
			groups = append(groups, Group{Scope: ecsapi.Scope{Region: region}, InstanceIDs: []string{fmt.Sprintf("i-%s%04d", region[3:], g)}, BatchOptimization: ecsapi.SuccessFirst})
		}
	}
	s := &Starter{ECS: f, MaxConcurrent: 1, Backoff: Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 3, Window: 20 * time.Millisecond}}
	r := s.newRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"})
	// cn-hangzhou's quota never comes back: its instances wait for windows
	// until the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), lastPollTime+200*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() { r.successFirst(ctx, g.Scope, g.InstanceIDs) })
	}
	wg.Wait()
	started := 0
	for _, g := range groups {
		ir := r.results[ecsapi.InstanceKey(g.Scope, g.InstanceIDs[0])]
		switch g.Scope.Region {
		case "cn-shanghai":
			if ir.Outcome != result.Started {
				t.Errorf("%s = %s %s: throttling in cn-hangzhou held back cn-shanghai", g.InstanceIDs[0], ir.Outcome, ir.Code)
			}
		default:
			if ir.Outcome == result.Started {
				started++
			}
		}
	}
	if started != 1 {
		t.Errorf("%d cn-hangzhou instances started, want the 1 its quota allowed", started)
	}
	if r.paceOf(ecsapi.Scope{Region: "cn-hangzhou"}, apiStart).acceptedCalls() != 1 || r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).acceptedCalls() != 6 {
		t.Errorf("accepted calls: cn-hangzhou %d, cn-shanghai %d; want 1 and 6, counted apart",
			r.paceOf(ecsapi.Scope{Region: "cn-hangzhou"}, apiStart).acceptedCalls(), r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).acceptedCalls())
	}
	r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).mu.Lock()
	defer r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).mu.Unlock()
	if r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).interval != 0 {
		t.Errorf("cn-shanghai is paced (%s) though ECS throttled none of its calls", r.paceOf(ecsapi.Scope{Region: "cn-shanghai"}, apiStart).interval)
	}
}

// Calls that wait for a place under MaxConcurrent still wait for their turn
// in the pace once they have it. They took their turn first, and went all
// at once whenever places freed: as ECS began to throttle, a whole round of
// calls went unpaced and was throttled. ECS here accepts one call per 50 ms
// and answers after 20 ms; once the first throttled answer has come back,
// no two calls go closer together than the pace's least interval allows
// (paceFloor less its jitter; a timer never fires early, so a loaded machine
// only spaces them further).
func TestQueuedCallsWaitForTheirTurn(t *testing.T) {
	limited, _ := rateLimitedECS(50 * time.Millisecond)
	var mu sync.Mutex
	var sends []time.Time
	var firstThrottle time.Time
	f := &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		mu.Lock()
		sends = append(sends, time.Now())
		mu.Unlock()
		out, err := limited.Start(in)
		time.Sleep(20 * time.Millisecond)
		if err != nil {
			mu.Lock()
			if firstThrottle.IsZero() {
				firstThrottle = time.Now()
			}
			mu.Unlock()
		}
		return out, err
	}}
	var groups []Group
	for g := range 24 {
		groups = append(groups, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{fmt.Sprintf("i-queued%04d", g)}, BatchOptimization: ecsapi.SuccessFirst})
	}
	s := &Starter{ECS: f, MaxConcurrent: 8}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, groups)
	for _, g := range groups {
		if ir := outcomeOf(t, res, g.InstanceIDs[0]); ir.Outcome != result.Started {
			t.Errorf("%s = %s %s", g.InstanceIDs[0], ir.Outcome, ir.Code)
		}
	}
	if firstThrottle.IsZero() {
		t.Fatal("ECS throttled nothing: the test tests nothing")
	}
	minGap := paceFloor * 9 / 10
	var prev time.Time
	for _, at := range sends {
		if at.After(firstThrottle) && !prev.IsZero() && prev.After(firstThrottle) && at.Sub(prev) < minGap {
			t.Errorf("two calls %s apart after the first throttled answer, want at least %s: a queued call went outside the pace", at.Sub(prev), minGap)
		}
		prev = at
	}
}

// instantECS answers every start at once with success: the benchmark measures
// the function's own work (decode, validate, plan, chunk, result, log lines).
func instantECS() *ecsapitest.ECS {
	return &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		out := &ecsapi.StartInstancesOutput{RequestID: "req"}
		for _, id := range in.InstanceIDs {
			out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"})
		}
		return out, nil
	}}
}
