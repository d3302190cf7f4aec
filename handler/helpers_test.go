package handler

import (
	"context"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
)

// Copies of the starter tests' helpers, for the tests that drive the
// starter from the handler.

// fastBackoff is DefaultBackoff scaled down, ECS's minute window too.
var fastBackoff = starter.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 8, Window: 20 * time.Millisecond}

func runStart(t *testing.T, e ecsapi.ECS, timeout time.Duration, groups ...starter.Group) map[string]result.InstanceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s := &starter.Starter{ECS: e, MaxConcurrent: 4, Backoff: fastBackoff}
	res, _ := s.NewRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, nil).StartGroups(ctx, groups)
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
