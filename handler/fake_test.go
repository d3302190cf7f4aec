package handler

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// fakeECS is a test double of the ECS interface: behaviour in function fields.
type fakeECS struct {
	start    func(in StartInstancesInput) (*StartInstancesOutput, error)
	describe func(region string, ids []string) (*DescribeInstancesOutput, error)
	byTags   func(in DescribeByTagsInput) (*DescribeInstancesOutput, error)
	// status answers DescribeInstanceStatus; nil: what describe says.
	status func(region string, ids []string) (*DescribeInstancesOutput, error)

	mu          sync.Mutex
	startCalls  []StartInstancesInput
	startCreds  []Credentials // of each StartInstances call
	describes   int
	polls       int // DescribeInstanceStatus calls
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

var _ ECS = (*fakeECS)(nil)

func (f *fakeECS) enter() func() {
	n := f.inFlight.Add(1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { f.inFlight.Add(-1) }
}

func (f *fakeECS) StartInstances(ctx context.Context, creds Credentials, in StartInstancesInput) (*StartInstancesOutput, error) {
	defer f.enter()()
	f.mu.Lock()
	in.InstanceIDs = append([]string(nil), in.InstanceIDs...)
	f.startCalls = append(f.startCalls, in)
	f.startCreds = append(f.startCreds, creds)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &NetworkError{Op: "StartInstances", Host: "fake", Err: err}
	}
	return f.start(in)
}

func (f *fakeECS) DescribeInstances(ctx context.Context, _ Credentials, region string, ids []string) (*DescribeInstancesOutput, error) {
	defer f.enter()()
	f.mu.Lock()
	f.describes++
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &NetworkError{Op: "DescribeInstances", Host: "fake", Err: err}
	}
	return f.describe(region, ids)
}

func (f *fakeECS) DescribeInstancesByTags(ctx context.Context, _ Credentials, in DescribeByTagsInput) (*DescribeInstancesOutput, error) {
	defer f.enter()()
	f.mu.Lock()
	f.describes++
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &NetworkError{Op: "DescribeInstances", Host: "fake", Err: err}
	}
	return f.byTags(in)
}

func (f *fakeECS) DescribeInstanceStatus(ctx context.Context, _ Credentials, region string, ids []string) (*DescribeInstancesOutput, error) {
	defer f.enter()()
	f.mu.Lock()
	f.polls++
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &NetworkError{Op: "DescribeInstanceStatus", Host: "fake", Err: err}
	}
	if f.status != nil {
		return f.status(region, ids)
	}
	out, err := f.describe(region, ids)
	if out != nil {
		statuses := &DescribeInstancesOutput{RequestID: out.RequestID}
		for _, in := range out.Instances {
			statuses.Instances = append(statuses.Instances, InstanceInfo{InstanceID: in.InstanceID, Status: in.Status})
		}
		out = statuses
	}
	return out, err
}

func (f *fakeECS) calls() []StartInstancesInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StartInstancesInput(nil), f.startCalls...)
}

// fleetECS answers like ECS from a map of instance statuses: Stopped instances
// start; others give IncorrectInstanceStatus; unknown IDs refuse the whole call.
type fleet struct {
	mu     sync.Mutex
	status map[string]string
	locks  map[string][]string
	tags   map[string]map[string]string
}

func newFleet(status map[string]string) *fleet {
	return &fleet{status: status, locks: map[string][]string{}, tags: map[string]map[string]string{}}
}

func (fl *fleet) ecs() *fakeECS {
	return &fakeECS{start: fl.start, describe: fl.describeIDs, byTags: fl.describeTags}
}

// describeTags answers a tag selection in one page, in no particular order:
// every instance that carries all the pairs.
func (fl *fleet) describeTags(in DescribeByTagsInput) (*DescribeInstancesOutput, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	out := &DescribeInstancesOutput{RequestID: "req-tags"}
	for id, st := range fl.status {
		if carriesAll(fl.tags[id], in.Tags) {
			out.Instances = append(out.Instances, InstanceInfo{InstanceID: id, RegionID: in.RegionID, Status: st, Tags: fl.tags[id]})
		}
	}
	return out, nil
}

func (fl *fleet) start(in StartInstancesInput) (*StartInstancesOutput, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, id := range in.InstanceIDs {
		if _, ok := fl.status[id]; !ok {
			return nil, &APIError{HTTPStatus: 404, Code: "InvalidInstanceIds.NotFound", Message: "The specified instance IDs are not found.", RequestID: "req-notfound"}
		}
	}
	if in.BatchOptimization == AllTogether || in.DryRun {
		for _, id := range in.InstanceIDs {
			if slices.Contains(fl.locks[id], "security") {
				return nil, &APIError{HTTPStatus: 403, Code: "InstanceLockedForSecurity", Message: "The specified operation is denied as your instance is locked for security reasons.", RequestID: "req-locked"}
			}
		}
	}
	if in.DryRun {
		for _, id := range in.InstanceIDs {
			if fl.status[id] != "Stopped" {
				return nil, &APIError{HTTPStatus: 403, Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.", RequestID: "req-dry"}
			}
		}
		return nil, &APIError{HTTPStatus: 400, Code: "DryRunOperation", Message: "Request validation has been passed with DryRun flag set.", RequestID: "req-dry"}
	}
	if in.BatchOptimization == AllTogether {
		for _, id := range in.InstanceIDs {
			if fl.status[id] != "Stopped" {
				return nil, &APIError{HTTPStatus: 403, Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.", RequestID: "req-at"}
			}
		}
	}
	out := &StartInstancesOutput{RequestID: "req-start"}
	for _, id := range in.InstanceIDs {
		st := fl.status[id]
		if st != "Stopped" {
			out.Responses = append(out.Responses, InstanceResponse{InstanceID: id, Code: "IncorrectInstanceStatus",
				Message: "The current status of the resource does not support this operation.", PreviousStatus: st, CurrentStatus: st})
			continue
		}
		fl.status[id] = "Starting"
		out.Responses = append(out.Responses, InstanceResponse{InstanceID: id, Code: "200", Message: "success",
			PreviousStatus: "Stopped", CurrentStatus: "Starting"})
	}
	return out, nil
}

func (fl *fleet) describeIDs(region string, ids []string) (*DescribeInstancesOutput, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	out := &DescribeInstancesOutput{RequestID: "req-describe"}
	for _, id := range ids {
		if st, ok := fl.status[id]; ok {
			out.Instances = append(out.Instances, InstanceInfo{InstanceID: id, RegionID: region, Status: st,
				LockReasons: fl.locks[id], Tags: fl.tags[id]})
		}
	}
	return out, nil
}

func (fl *fleet) set(id, status string) {
	fl.mu.Lock()
	fl.status[id] = status
	fl.mu.Unlock()
}
