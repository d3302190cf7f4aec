package starter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// fastBackoff is DefaultBackoff scaled down, ECS's minute window too.
var fastBackoff = Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 8, Window: 20 * time.Millisecond}

func runStart(t *testing.T, e ecsapi.ECS, timeout time.Duration, groups ...Group) map[string]result.InstanceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s := &Starter{ECS: e, MaxConcurrent: 4, Backoff: fastBackoff}
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, groups)
	return res
}

func outcomeOf(t *testing.T, res map[string]result.InstanceResult, id string) result.InstanceResult {
	t.Helper()
	ir, ok := res[ecsapi.InstanceKey(ecsapi.Scope{Region: "cn-hangzhou"}, id)]
	if !ok {
		t.Fatalf("no result for %s", id)
	}
	return ir
}

func TestThrottlingIsRetriedThenStarts(t *testing.T) {
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-throttle01"}))
	f := fl.ECS()
	n := 0
	f.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		n++
		if n <= 2 {
			return nil, &ecsapi.APIError{HTTPStatus: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control."}
		}
		return fl.Start(in)
	}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-throttle01"}, BatchOptimization: ecsapi.SuccessFirst})
	if ir := outcomeOf(t, res, "i-throttle01"); ir.Outcome != result.Started {
		t.Fatalf("after throttling: %+v", ir)
	}
	if n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestEndlessThrottlingIsUnfinishedBeforeDeadline(t *testing.T) {
	f := &ecsapitest.ECS{Start: func(_ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		return nil, &ecsapi.APIError{HTTPStatus: 400, Code: "Throttling.User", Message: "flow control", RequestID: "req-t"}
	}}
	s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 1000}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	res, _ := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "a", AccessKeySecret: "b"}, []Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-throttle02"}, BatchOptimization: ecsapi.SuccessFirst}})
	if took := time.Since(begin); took > 2*time.Second {
		t.Fatalf("took %s, past the deadline", took)
	}
	ir := outcomeOf(t, res, "i-throttle02")
	if ir.Outcome != result.Unfinished || !ir.Retryable || ir.Code != "Throttling.User" {
		t.Fatalf("%+v", ir)
	}
	if len(f.Calls()) < 2 {
		t.Fatalf("only %d calls: throttling was not retried", len(f.Calls()))
	}
}

func TestOneBadIDDoesNotBlockTheOthers(t *testing.T) {
	good := ecsapitest.IDs(99, "g")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(good))
	f := fl.ECS()
	list := append(append([]string{}, good[:50]...), "i-missing0001")
	list = append(list, good[50:]...)
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: list, BatchOptimization: ecsapi.SuccessFirst})
	bad := outcomeOf(t, res, "i-missing0001")
	if bad.Outcome != result.Failed || bad.Code != "InvalidInstanceIds.NotFound" || bad.Advice == "" {
		t.Fatalf("bad ID: %+v", bad)
	}
	for _, id := range good {
		if ir := outcomeOf(t, res, id); ir.Outcome != result.Started {
			t.Fatalf("%s blocked by a bad ID: %+v", id, ir)
		}
	}
	// A binary search: about 2·log2(100)+1 calls, never one per ID.
	if n := len(f.Calls()); n > 15 {
		t.Fatalf("%d calls to isolate one bad ID", n)
	}
}

func TestAlreadyRunningIsLookedUp(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-run000001": "Running", "i-stop00001": "Stopped", "i-strt00001": "Starting"})
	res := runStart(t, fl.ECS(), 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-run000001", "i-stop00001", "i-strt00001"}, BatchOptimization: ecsapi.SuccessFirst})
	for id, want := range map[string]result.Outcome{"i-run000001": result.AlreadyRunning, "i-stop00001": result.Started, "i-strt00001": result.AlreadyRunning} {
		if ir := outcomeOf(t, res, id); ir.Outcome != want {
			t.Errorf("%s: %s, want %s (%+v)", id, ir.Outcome, want, ir)
		}
	}
}

func TestAllTogetherSetsRunningAsideAndStartsTheRest(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-run000002": "Running", "i-stop00002": "Stopped", "i-stop00003": "Stopped"})
	f := fl.ECS()
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-run000002", "i-stop00002", "i-stop00003"}, BatchOptimization: ecsapi.AllTogether})
	if ir := outcomeOf(t, res, "i-run000002"); ir.Outcome != result.AlreadyRunning {
		t.Fatalf("%+v", ir)
	}
	for _, id := range []string{"i-stop00002", "i-stop00003"} {
		if ir := outcomeOf(t, res, id); ir.Outcome != result.Started {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	calls := f.Calls()
	if len(calls) != 2 || len(calls[1].InstanceIDs) != 2 || calls[1].BatchOptimization != ecsapi.AllTogether {
		t.Fatalf("calls: %+v", calls)
	}
}

func TestAllTogetherFailureFailsEveryInstance(t *testing.T) {
	f := &ecsapitest.ECS{Start: func(_ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		return nil, &ecsapi.APIError{HTTPStatus: 403, Code: "InsufficientBalance", Message: "Your account does not have enough balance.", RequestID: "req-bal"}
	}, Describe: ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-bal000001", "i-bal000002"})).DescribeIDs}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-bal000001", "i-bal000002"}, BatchOptimization: ecsapi.AllTogether})
	for _, id := range []string{"i-bal000001", "i-bal000002"} {
		ir := outcomeOf(t, res, id)
		if ir.Outcome != result.Failed || ir.Code != "InsufficientBalance" || !strings.Contains(ir.Advice, "funds") || ir.EcsRequestID != "req-bal" {
			t.Fatalf("%s: %+v", id, ir)
		}
	}
	if len(f.Calls()) != 1 {
		t.Fatalf("a permanent failure was retried: %d calls", len(f.Calls()))
	}
}

func TestSecurityLockIsFailedAndNeverRetried(t *testing.T) {
	f := &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		return &ecsapi.StartInstancesOutput{RequestID: "req-lock", Responses: []ecsapi.InstanceResponse{{InstanceID: in.InstanceIDs[0],
			Code: "InstanceLockedForSecurity", Message: "The specified operation is denied as your instance is locked for security reasons."}}}, nil
	}}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-lock000001"}, BatchOptimization: ecsapi.SuccessFirst})
	ir := outcomeOf(t, res, "i-lock000001")
	if ir.Outcome != result.Failed || ir.Code != "InstanceLockedForSecurity" || ir.Advice == "" {
		t.Fatalf("%+v", ir)
	}
	if len(f.Calls()) != 1 {
		t.Fatalf("%d calls", len(f.Calls()))
	}
}

func TestStoppingInstanceIsWaitedForThenStarted(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-stopping01": "Stopping"})
	f := fl.ECS()
	describes := 0
	f.Describe = func(region string, list []string) (*ecsapi.DescribeInstancesOutput, error) {
		describes++
		if describes == 2 {
			fl.Set("i-stopping01", "Stopped")
		}
		return fl.DescribeIDs(region, list)
	}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-stopping01"}, BatchOptimization: ecsapi.SuccessFirst})
	if ir := outcomeOf(t, res, "i-stopping01"); ir.Outcome != result.Started {
		t.Fatalf("%+v", ir)
	}
}

func TestStoppingPastTheDeadlineIsUnfinished(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-stopping02": "Stopping"})
	res := runStart(t, fl.ECS(), 200*time.Millisecond, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-stopping02"}, BatchOptimization: ecsapi.SuccessFirst})
	ir := outcomeOf(t, res, "i-stopping02")
	if ir.Outcome != result.Unfinished || !ir.Retryable || !strings.Contains(ir.Message, "Stopping") {
		t.Fatalf("%+v", ir)
	}
}

func TestDryRunSaysWhatARealRunWouldDo(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-dry000001": "Stopped", "i-dry000002": "Running"})
	fl.Locks["i-dry000003"] = []string{"security"}
	fl.Status["i-dry000003"] = "Stopped"
	f := fl.ECS()
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-dry000001", "i-dry000002", "i-dry000003", "i-dry000004"}, BatchOptimization: ecsapi.SuccessFirst, DryRun: true})
	want := map[string]result.Outcome{"i-dry000001": result.DryRunPassed, "i-dry000002": result.AlreadyRunning, "i-dry000003": result.Failed, "i-dry000004": result.Failed}
	for id, o := range want {
		if ir := outcomeOf(t, res, id); ir.Outcome != o {
			t.Errorf("%s: %s, want %s (%+v)", id, ir.Outcome, o, ir)
		}
	}
	for _, c := range f.Calls() {
		if !c.DryRun {
			t.Fatalf("a dry run sent a real start: %+v", c)
		}
	}
	if fl.Status["i-dry000001"] != "Stopped" {
		t.Fatal("a dry run changed an instance")
	}
}

func TestNetworkErrorsAreUnfinished(t *testing.T) {
	f := &ecsapitest.ECS{Start: func(_ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "ecs.example", Err: fmt.Errorf("connection reset by peer")}
	}}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-net0000001"}, BatchOptimization: ecsapi.SuccessFirst})
	ir := outcomeOf(t, res, "i-net0000001")
	if ir.Outcome != result.Unfinished || ir.Code != result.CodeNetworkError {
		t.Fatalf("%+v", ir)
	}
	if n := len(f.Calls()); n != fastBackoff.Attempts {
		t.Fatalf("%d calls, want %d attempts", n, fastBackoff.Attempts)
	}
}

func TestAcceptedStartOfARunningInstanceIsAlreadyRunning(t *testing.T) {
	f := &ecsapitest.ECS{Start: func(_ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		return &ecsapi.StartInstancesOutput{RequestID: "req", Responses: []ecsapi.InstanceResponse{
			{InstanceID: "i-lenient001", Code: "200", Message: "success", PreviousStatus: "Running", CurrentStatus: "Running"},
			{InstanceID: "i-lenient002", Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"},
		}}, nil
	}}
	res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-lenient001", "i-lenient002"}, BatchOptimization: ecsapi.SuccessFirst})
	if outcomeOf(t, res, "i-lenient001").Outcome != result.AlreadyRunning || outcomeOf(t, res, "i-lenient002").Outcome != result.Started {
		t.Fatalf("%+v", res)
	}
}
