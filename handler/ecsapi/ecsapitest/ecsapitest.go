// Package ecsapitest provides test doubles of the ECS interface, in the
// manner of net/http/httptest: ECS, whose behaviour is in function fields and
// which counts its calls, and Fleet, which answers like ECS from a map of
// instance statuses.
package ecsapitest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
)

// ECS is a test double of the ECS interface: behaviour in function fields.
// The counters are read under Mu.
type ECS struct {
	Start    func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error)
	Describe func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error)
	ByTags   func(in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error)
	// Status answers DescribeInstanceStatus; nil: what Describe says.
	Status func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error)

	Mu          sync.Mutex
	StartCalls  []ecsapi.StartInstancesInput
	StartCreds  []ecsapi.Credentials // of each StartInstances call
	Describes   int
	Polls       int // DescribeInstanceStatus calls
	InFlight    atomic.Int32
	MaxInFlight atomic.Int32
}

var _ ecsapi.ECS = (*ECS)(nil)

func (f *ECS) enter() func() {
	n := f.InFlight.Add(1)
	for {
		m := f.MaxInFlight.Load()
		if n <= m || f.MaxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { f.InFlight.Add(-1) }
}

// StartInstances records the call, then answers with Start.
func (f *ECS) StartInstances(ctx context.Context, creds ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	defer f.enter()()
	f.Mu.Lock()
	in.InstanceIDs = append([]string(nil), in.InstanceIDs...)
	f.StartCalls = append(f.StartCalls, in)
	f.StartCreds = append(f.StartCreds, creds)
	f.Mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "fake", Err: err}
	}
	return f.Start(in)
}

// DescribeInstances counts the call, then answers with Describe.
func (f *ECS) DescribeInstances(ctx context.Context, _ ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	defer f.enter()()
	if err := f.count(ctx, &f.Describes, "DescribeInstances"); err != nil {
		return nil, err
	}
	return f.Describe(region, ids)
}

// DescribeInstancesByTags counts the call, then answers with ByTags.
func (f *ECS) DescribeInstancesByTags(ctx context.Context, _ ecsapi.Credentials, in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	defer f.enter()()
	if err := f.count(ctx, &f.Describes, "DescribeInstances"); err != nil {
		return nil, err
	}
	return f.ByTags(in)
}

// DescribeInstanceStatus counts the poll, then answers with Status, or
// with the statuses of what Describe says.
func (f *ECS) DescribeInstanceStatus(ctx context.Context, _ ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	defer f.enter()()
	if err := f.count(ctx, &f.Polls, "DescribeInstanceStatus"); err != nil {
		return nil, err
	}
	if f.Status != nil {
		return f.Status(region, ids)
	}
	out, err := f.Describe(region, ids)
	if out != nil {
		statuses := &ecsapi.DescribeInstancesOutput{RequestID: out.RequestID}
		for _, in := range out.Instances {
			statuses.Instances = append(statuses.Instances, ecsapi.InstanceInfo{InstanceID: in.InstanceID, Status: in.Status})
		}
		out = statuses
	}
	return out, err
}

// count adds one to counter under Mu, and fails a call whose ctx has ended
// as the adapter would: a network error of op.
func (f *ECS) count(ctx context.Context, counter *int, op string) error {
	f.Mu.Lock()
	*counter++
	f.Mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &ecsapi.NetworkError{Op: op, Host: "fake", Err: err}
	}
	return nil
}

// Calls are the StartInstances calls made so far.
func (f *ECS) Calls() []ecsapi.StartInstancesInput {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return append([]ecsapi.StartInstancesInput(nil), f.StartCalls...)
}

// Fleet answers like ECS from a map of instance statuses: Stopped instances
// start; others give IncorrectInstanceStatus; unknown IDs refuse the whole call.
type Fleet struct {
	Mu     sync.Mutex
	Status map[string]string
	Locks  map[string][]string
	Tags   map[string]map[string]string
}

// NewFleet is a fleet of the given statuses, no locks and no tags.
func NewFleet(status map[string]string) *Fleet {
	return &Fleet{Status: status, Locks: map[string][]string{}, Tags: map[string]map[string]string{}}
}

// ECS is an ECS double that answers from the fleet.
func (fl *Fleet) ECS() *ECS {
	return &ECS{Start: fl.Start, Describe: fl.DescribeIDs, ByTags: fl.DescribeTags}
}

// RunningOnceLookedAt is an ECS double over the fleet in which a started
// instance runs once it has been looked at: a wait sees it Running on its
// first poll, and a sequence's implied wait ends.
func (fl *Fleet) RunningOnceLookedAt() *ECS {
	e := fl.ECS()
	e.Describe = func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
		out, err := fl.DescribeIDs(region, ids)
		fl.Mu.Lock()
		defer fl.Mu.Unlock()
		for _, id := range ids {
			if fl.Status[id] == "Starting" {
				fl.Status[id] = "Running"
			}
		}
		return out, err
	}
	return e
}

// DescribeTags answers a tag selection in one page, in no particular order:
// every instance that carries all the pairs.
func (fl *Fleet) DescribeTags(in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	fl.Mu.Lock()
	defer fl.Mu.Unlock()
	out := &ecsapi.DescribeInstancesOutput{RequestID: "req-tags"}
	for id, st := range fl.Status {
		if ecsapi.CarriesAll(fl.Tags[id], in.Tags) {
			out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: in.RegionID, Status: st, LockReasons: fl.Locks[id], Tags: fl.Tags[id]})
		}
	}
	return out, nil
}

// Start answers StartInstances.
func (fl *Fleet) Start(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	fl.Mu.Lock()
	defer fl.Mu.Unlock()
	for _, id := range in.InstanceIDs {
		if _, ok := fl.Status[id]; !ok {
			return nil, &ecsapi.APIError{HTTPStatus: 404, Code: "InvalidInstanceIds.NotFound", Message: "The specified instance IDs are not found.", RequestID: "req-notfound"}
		}
	}
	if in.BatchOptimization == ecsapi.AllTogether || in.DryRun {
		for _, id := range in.InstanceIDs {
			if slices.Contains(fl.Locks[id], "security") {
				return nil, &ecsapi.APIError{HTTPStatus: 403, Code: "InstanceLockedForSecurity", Message: "The specified operation is denied as your instance is locked for security reasons.", RequestID: "req-locked"}
			}
		}
	}
	if in.DryRun {
		for _, id := range in.InstanceIDs {
			if fl.Status[id] != "Stopped" {
				return nil, &ecsapi.APIError{HTTPStatus: 403, Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.", RequestID: "req-dry"}
			}
		}
		return nil, &ecsapi.APIError{HTTPStatus: 400, Code: "DryRunOperation", Message: "Request validation has been passed with DryRun flag set.", RequestID: "req-dry"}
	}
	if in.BatchOptimization == ecsapi.AllTogether {
		for _, id := range in.InstanceIDs {
			if fl.Status[id] != "Stopped" {
				return nil, &ecsapi.APIError{HTTPStatus: 403, Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.", RequestID: "req-at"}
			}
		}
	}
	out := &ecsapi.StartInstancesOutput{RequestID: "req-start"}
	for _, id := range in.InstanceIDs {
		st := fl.Status[id]
		if st != "Stopped" {
			out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "IncorrectInstanceStatus",
				Message: "The current status of the resource does not support this operation.", PreviousStatus: st, CurrentStatus: st})
			continue
		}
		fl.Status[id] = "Starting"
		out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success",
			PreviousStatus: "Stopped", CurrentStatus: "Starting"})
	}
	return out, nil
}

// DescribeIDs answers DescribeInstances by IDs.
func (fl *Fleet) DescribeIDs(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	fl.Mu.Lock()
	defer fl.Mu.Unlock()
	out := &ecsapi.DescribeInstancesOutput{RequestID: "req-describe"}
	for _, id := range ids {
		if st, ok := fl.Status[id]; ok {
			out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: region, Status: st,
				LockReasons: fl.Locks[id], Tags: fl.Tags[id]})
		}
	}
	return out, nil
}

// Set changes an instance's status.
func (fl *Fleet) Set(id, status string) {
	fl.Mu.Lock()
	fl.Status[id] = status
	fl.Mu.Unlock()
}

// IDs are n instance IDs i-<prefix>000000, i-<prefix>000001, ….
func IDs(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i-%s%06d", prefix, i)
	}
	return out
}

// Stopped is a fleet's statuses: every ID of the lists Stopped.
func Stopped(list ...[]string) map[string]string {
	m := map[string]string{}
	for _, l := range list {
		for _, id := range l {
			m[id] = "Stopped"
		}
	}
	return m
}
