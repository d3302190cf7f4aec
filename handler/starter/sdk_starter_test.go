package starter

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// countingECS counts the calls that reach an ECS implementation.
type countingECS struct {
	ecsapi.ECS
	calls atomic.Int32
}

// refusingTransport counts the requests it is given and sends none.
type refusingTransport struct{ sent atomic.Int32 }

// A call that cannot be made (the SDK client cannot be built for a
// malformed region) is permanent: Failed after one attempt, never retried.
func TestClientBuildFailureIsPermanent(t *testing.T) {
	for _, g := range []Group{
		{Scope: ecsapi.Scope{Region: "Bad_Region"}, InstanceIDs: []string{"i-a"}, BatchOptimization: ecsapi.SuccessFirst},
		{Scope: ecsapi.Scope{Region: "evil.host/x?"}, InstanceIDs: []string{"i-a"}, BatchOptimization: ecsapi.AllTogether},
		{Scope: ecsapi.Scope{Region: "Bad_Region"}, InstanceIDs: []string{"i-a"}, BatchOptimization: ecsapi.SuccessFirst, DryRun: true},
	} {
		capture := &refusingTransport{}
		e := &countingECS{ECS: newSDK(t, aliyun.Options{Transport: capture})}
		s := &Starter{ECS: e, MaxConcurrent: 4, Backoff: budgetBackoff}
		res, _ := s.startAll(context.Background(), sdkSTS, []Group{g})
		ir := res[ecsapi.InstanceKey(g.Scope, "i-a")]
		if ir.Outcome != result.Failed || ir.Code != result.CodeInvalidRegionID || e.calls.Load() != 1 || capture.sent.Load() != 0 {
			t.Fatalf("%+v: %+v after %d attempts, want Failed %s after 1", g, ir, e.calls.Load(), result.CodeInvalidRegionID)
		}
	}
}

func (c *countingECS) StartInstances(ctx context.Context, creds ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	c.calls.Add(1)
	return c.ECS.StartInstances(ctx, creds, in)
}

func (c *countingECS) DescribeInstances(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	c.calls.Add(1)
	return c.ECS.DescribeInstances(ctx, creds, region, ids)
}

func (c *countingECS) DescribeInstanceStatus(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	c.calls.Add(1)
	return c.ECS.DescribeInstanceStatus(ctx, creds, region, ids)
}

func (c *refusingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.sent.Add(1)
	return nil, errors.New("this test sends nothing")
}
