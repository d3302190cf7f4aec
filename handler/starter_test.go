package handler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fastBackoff is DefaultBackoff scaled down, ECS's minute window too.
var fastBackoff = Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 8, Window: 20 * time.Millisecond}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i-%s%06d", prefix, i)
	}
	return out
}

func stopped(list ...[]string) map[string]string {
	m := map[string]string{}
	for _, l := range list {
		for _, id := range l {
			m[id] = "Stopped"
		}
	}
	return m
}

func runStart(t *testing.T, e ECS, timeout time.Duration, groups ...Group) map[string]InstanceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s := &Starter{ECS: e, MaxConcurrent: 4, Backoff: fastBackoff}
	res, _ := s.Start(ctx, Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, groups)
	return res
}

func outcomeOf(t *testing.T, res map[string]InstanceResult, id string) InstanceResult {
	t.Helper()
	ir, ok := res[resultKey("cn-hangzhou", id)]
	if !ok {
		t.Fatalf("no result for %s", id)
	}
	return ir
}

func TestSuccessFirstStartsEveryInstance(t *testing.T) {
	all := ids(250, "a")
	fl := newFleet(stopped(all))
	f := fl.ecs()
	groups := groupEntries(entriesFor(all, SuccessFirst, false))
	if len(groups) != 3 {
		t.Fatalf("250 IDs make %d groups, want 3 of at most 100", len(groups))
	}
	res := runStart(t, f, 5*time.Second, groups...)
	if len(res) != 250 {
		t.Fatalf("%d results for 250 instances", len(res))
	}
	for _, id := range all {
		if ir := outcomeOf(t, res, id); ir.Outcome != Started || ir.PreviousStatus != "Stopped" || ir.EcsRequestID != "req-start" {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	for _, c := range f.calls() {
		if len(c.InstanceIDs) > 100 || c.BatchOptimization != SuccessFirst {
			t.Fatalf("call with %d IDs, batch %s", len(c.InstanceIDs), c.BatchOptimization)
		}
	}
}

func entriesFor(list []string, batch string, dry bool) []*entry {
	var out []*entry
	var g *atGroup // SuccessFirst
	if batch == AllTogether {
		g = &atGroup{}
	}
	for _, id := range list {
		out = append(out, &entry{id: id, region: "cn-hangzhou", group: g, dryRun: dry})
	}
	return out
}

func TestThrottlingIsRetriedThenStarts(t *testing.T) {
	fl := newFleet(stopped([]string{"i-throttle01"}))
	f := fl.ecs()
	n := 0
	f.start = func(in StartInstancesInput) (*StartInstancesOutput, error) {
		n++
		if n <= 2 {
			return nil, &APIError{HTTPStatus: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control."}
		}
		return fl.start(in)
	}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-throttle01"}, BatchOptimization: SuccessFirst})
	if ir := outcomeOf(t, res, "i-throttle01"); ir.Outcome != Started {
		t.Fatalf("after throttling: %+v", ir)
	}
	if n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestEndlessThrottlingIsUnfinishedBeforeDeadline(t *testing.T) {
	f := &fakeECS{start: func(_ StartInstancesInput) (*StartInstancesOutput, error) {
		return nil, &APIError{HTTPStatus: 400, Code: "Throttling.User", Message: "flow control", RequestID: "req-t"}
	}}
	s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 1000}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	res, _ := s.Start(ctx, Credentials{AccessKeyID: "a", AccessKeySecret: "b"}, []Group{{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-throttle02"}, BatchOptimization: SuccessFirst}})
	if took := time.Since(begin); took > 2*time.Second {
		t.Fatalf("took %s, past the deadline", took)
	}
	ir := outcomeOf(t, res, "i-throttle02")
	if ir.Outcome != Unfinished || !ir.Retryable || ir.Code != "Throttling.User" {
		t.Fatalf("%+v", ir)
	}
	if len(f.calls()) < 2 {
		t.Fatalf("only %d calls: throttling was not retried", len(f.calls()))
	}
}

func TestOneBadIDDoesNotBlockTheOthers(t *testing.T) {
	good := ids(99, "g")
	fl := newFleet(stopped(good))
	f := fl.ecs()
	list := append(append([]string{}, good[:50]...), "i-missing0001")
	list = append(list, good[50:]...)
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: list, BatchOptimization: SuccessFirst})
	bad := outcomeOf(t, res, "i-missing0001")
	if bad.Outcome != Failed || bad.Code != "InvalidInstanceIds.NotFound" || bad.Advice == "" {
		t.Fatalf("bad ID: %+v", bad)
	}
	for _, id := range good {
		if ir := outcomeOf(t, res, id); ir.Outcome != Started {
			t.Fatalf("%s blocked by a bad ID: %+v", id, ir)
		}
	}
	// A binary search: about 2·log2(100)+1 calls, never one per ID.
	if n := len(f.calls()); n > 15 {
		t.Fatalf("%d calls to isolate one bad ID", n)
	}
}

func TestAlreadyRunningIsLookedUp(t *testing.T) {
	fl := newFleet(map[string]string{"i-run000001": "Running", "i-stop00001": "Stopped", "i-strt00001": "Starting"})
	res := runStart(t, fl.ecs(), 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-run000001", "i-stop00001", "i-strt00001"}, BatchOptimization: SuccessFirst})
	for id, want := range map[string]Outcome{"i-run000001": AlreadyRunning, "i-stop00001": Started, "i-strt00001": AlreadyRunning} {
		if ir := outcomeOf(t, res, id); ir.Outcome != want {
			t.Errorf("%s: %s, want %s (%+v)", id, ir.Outcome, want, ir)
		}
	}
}

func TestAllTogetherSetsRunningAsideAndStartsTheRest(t *testing.T) {
	fl := newFleet(map[string]string{"i-run000002": "Running", "i-stop00002": "Stopped", "i-stop00003": "Stopped"})
	f := fl.ecs()
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-run000002", "i-stop00002", "i-stop00003"}, BatchOptimization: AllTogether})
	if ir := outcomeOf(t, res, "i-run000002"); ir.Outcome != AlreadyRunning {
		t.Fatalf("%+v", ir)
	}
	for _, id := range []string{"i-stop00002", "i-stop00003"} {
		if ir := outcomeOf(t, res, id); ir.Outcome != Started {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	calls := f.calls()
	if len(calls) != 2 || len(calls[1].InstanceIDs) != 2 || calls[1].BatchOptimization != AllTogether {
		t.Fatalf("calls: %+v", calls)
	}
}

func TestAllTogetherFailureFailsEveryInstance(t *testing.T) {
	f := &fakeECS{start: func(_ StartInstancesInput) (*StartInstancesOutput, error) {
		return nil, &APIError{HTTPStatus: 403, Code: "InsufficientBalance", Message: "Your account does not have enough balance.", RequestID: "req-bal"}
	}, describe: newFleet(stopped([]string{"i-bal000001", "i-bal000002"})).describeIDs}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-bal000001", "i-bal000002"}, BatchOptimization: AllTogether})
	for _, id := range []string{"i-bal000001", "i-bal000002"} {
		ir := outcomeOf(t, res, id)
		if ir.Outcome != Failed || ir.Code != "InsufficientBalance" || !strings.Contains(ir.Advice, "funds") || ir.EcsRequestID != "req-bal" {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	if len(f.calls()) != 1 {
		t.Fatalf("a permanent failure was retried: %d calls", len(f.calls()))
	}
}

func TestSecurityLockIsFailedAndNeverRetried(t *testing.T) {
	f := &fakeECS{start: func(in StartInstancesInput) (*StartInstancesOutput, error) {
		return &StartInstancesOutput{RequestID: "req-lock", Responses: []InstanceResponse{{InstanceID: in.InstanceIDs[0],
			Code: "InstanceLockedForSecurity", Message: "The specified operation is denied as your instance is locked for security reasons."}}}, nil
	}}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-lock000001"}, BatchOptimization: SuccessFirst})
	ir := outcomeOf(t, res, "i-lock000001")
	if ir.Outcome != Failed || ir.Code != "InstanceLockedForSecurity" || ir.Advice == "" {
		t.Fatalf("%+v", ir)
	}
	if len(f.calls()) != 1 {
		t.Fatalf("%d calls", len(f.calls()))
	}
}

func TestStoppingInstanceIsWaitedForThenStarted(t *testing.T) {
	fl := newFleet(map[string]string{"i-stopping01": "Stopping"})
	f := fl.ecs()
	describes := 0
	f.describe = func(region string, list []string) (*DescribeInstancesOutput, error) {
		describes++
		if describes == 2 {
			fl.set("i-stopping01", "Stopped")
		}
		return fl.describeIDs(region, list)
	}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-stopping01"}, BatchOptimization: SuccessFirst})
	if ir := outcomeOf(t, res, "i-stopping01"); ir.Outcome != Started {
		t.Fatalf("%+v", ir)
	}
}

func TestStoppingPastTheDeadlineIsUnfinished(t *testing.T) {
	fl := newFleet(map[string]string{"i-stopping02": "Stopping"})
	res := runStart(t, fl.ecs(), 200*time.Millisecond, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-stopping02"}, BatchOptimization: SuccessFirst})
	ir := outcomeOf(t, res, "i-stopping02")
	if ir.Outcome != Unfinished || !ir.Retryable || !strings.Contains(ir.Message, "Stopping") {
		t.Fatalf("%+v", ir)
	}
}

func TestDryRunSaysWhatARealRunWouldDo(t *testing.T) {
	fl := newFleet(map[string]string{"i-dry000001": "Stopped", "i-dry000002": "Running"})
	fl.locks["i-dry000003"] = []string{"security"}
	fl.status["i-dry000003"] = "Stopped"
	f := fl.ecs()
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-dry000001", "i-dry000002", "i-dry000003", "i-dry000004"}, BatchOptimization: SuccessFirst, DryRun: true})
	want := map[string]Outcome{"i-dry000001": DryRunPassed, "i-dry000002": AlreadyRunning, "i-dry000003": Failed, "i-dry000004": Failed}
	for id, o := range want {
		if ir := outcomeOf(t, res, id); ir.Outcome != o {
			t.Errorf("%s: %s, want %s (%+v)", id, ir.Outcome, o, ir)
		}
	}
	for _, c := range f.calls() {
		if !c.DryRun {
			t.Fatalf("a dry run sent a real start: %+v", c)
		}
	}
	if fl.status["i-dry000001"] != "Stopped" {
		t.Fatal("a dry run changed an instance")
	}
}

func TestNetworkErrorsAreUnfinished(t *testing.T) {
	f := &fakeECS{start: func(_ StartInstancesInput) (*StartInstancesOutput, error) {
		return nil, &NetworkError{Op: "StartInstances", Host: "ecs.example", Err: fmt.Errorf("connection reset by peer")}
	}}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-net0000001"}, BatchOptimization: SuccessFirst})
	ir := outcomeOf(t, res, "i-net0000001")
	if ir.Outcome != Unfinished || ir.Code != CodeNetworkError {
		t.Fatalf("%+v", ir)
	}
	if n := len(f.calls()); n != fastBackoff.Attempts {
		t.Fatalf("%d calls, want %d attempts", n, fastBackoff.Attempts)
	}
}

func TestCallsStayUnderTheConcurrencyBound(t *testing.T) {
	all := ids(1000, "c")
	fl := newFleet(stopped(all))
	f := fl.ecs()
	inner := f.start
	f.start = func(in StartInstancesInput) (*StartInstancesOutput, error) {
		time.Sleep(5 * time.Millisecond)
		return inner(in)
	}
	s := &Starter{ECS: f, MaxConcurrent: 3, Backoff: fastBackoff}
	res, _ := s.Start(context.Background(), Credentials{AccessKeyID: "a", AccessKeySecret: "b"}, groupEntries(entriesFor(all, SuccessFirst, false)))
	if len(res) != 1000 {
		t.Fatalf("%d results", len(res))
	}
	if m := f.maxInFlight.Load(); m > 3 || m < 2 {
		t.Fatalf("max in flight %d, want 2..3 under a bound of 3", m)
	}
}

func TestAcceptedStartOfARunningInstanceIsAlreadyRunning(t *testing.T) {
	f := &fakeECS{start: func(_ StartInstancesInput) (*StartInstancesOutput, error) {
		return &StartInstancesOutput{RequestID: "req", Responses: []InstanceResponse{
			{InstanceID: "i-lenient001", Code: "200", Message: "success", PreviousStatus: "Running", CurrentStatus: "Running"},
			{InstanceID: "i-lenient002", Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"},
		}}, nil
	}}
	res := runStart(t, f, 5*time.Second, Group{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-lenient001", "i-lenient002"}, BatchOptimization: SuccessFirst})
	if outcomeOf(t, res, "i-lenient001").Outcome != AlreadyRunning || outcomeOf(t, res, "i-lenient002").Outcome != Started {
		t.Fatalf("%+v", res)
	}
}
