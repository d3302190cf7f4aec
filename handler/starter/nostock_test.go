package starter

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// noStockECS answers StartInstances as ECS does for i-ns, an instance
// stopped in economical mode whose zone is out of stock until until (zero:
// for good): SuccessFirst refuses that instance alone, AllTogether refuses
// the whole call (HTTP 403, OperationDenied.NoStock). Other instances start.
func noStockECS(until time.Time) *ecsapitest.ECS {
	var mu sync.Mutex
	return &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		sold := until.IsZero() || time.Now().Before(until)
		out := &ecsapi.StartInstancesOutput{RequestID: "req-start"}
		for _, id := range in.InstanceIDs {
			if id == "i-ns" && sold {
				if in.BatchOptimization == ecsapi.AllTogether {
					return nil, &ecsapi.APIError{HTTPStatus: 403, Code: result.CodeNoStock, RequestID: "req-nostock",
						Message: "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones."}
				}
				out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: result.CodeNoStock,
					Message:        "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones.",
					PreviousStatus: "Stopped", CurrentStatus: "Stopped"})
				continue
			}
			out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"})
		}
		return out, nil
	}}
}

// DESIGN §9, out of stock: OperationDenied.NoStock is retried with backoff
// within the deadline — capacity comes back — in both batch modes, bounded
// by the deadline and not by the transient budget; when the deadline comes
// the instance is Unfinished with Code OperationDenied.NoStock and its
// advice, never a silent Failed.
func TestNoStockIsRetriedUntilTheDeadline(t *testing.T) {
	creds := ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}
	for _, batch := range []string{ecsapi.SuccessFirst, ecsapi.AllTogether} {
		g := Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-ns", "i-ok"}, BatchOptimization: batch}
		t.Run(batch+"/stock returns", func(t *testing.T) {
			f := noStockECS(time.Now().Add(150 * time.Millisecond))
			s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			res, _ := s.startAll(ctx, creds, []Group{g})
			for _, id := range g.InstanceIDs {
				if ir := outcomeOf(t, res, id); ir.Outcome != result.Started {
					t.Fatalf("%s = %+v, want Started once stock returned", id, ir)
				}
			}
			if n := len(f.Calls()); n <= budgetBackoff.Attempts {
				t.Fatalf("%d calls: out of stock must be retried past the transient budget (%d)", n, budgetBackoff.Attempts)
			}
		})
		t.Run(batch+"/stock does not return", func(t *testing.T) {
			f := noStockECS(time.Time{})
			s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: budgetBackoff}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			res, _ := s.startAll(ctx, creds, []Group{g})
			if el := time.Since(t0); el > time.Second {
				t.Fatalf("took %v, past the deadline", el)
			}
			ir := outcomeOf(t, res, "i-ns")
			if ir.Outcome != result.Unfinished || ir.Code != result.CodeNoStock || !ir.Retryable ||
				ir.Advice != result.Advice(result.CodeNoStock) || !strings.Contains(ir.Advice, "try again later") {
				t.Fatalf("i-ns = %+v, want Unfinished, %s, with its advice", ir, result.CodeNoStock)
			}
			if n := len(f.Calls()); n <= budgetBackoff.Attempts {
				t.Fatalf("%d calls: out of stock must be retried until the deadline, not for %d", n, budgetBackoff.Attempts)
			}
			ok := outcomeOf(t, res, "i-ok")
			switch batch {
			case ecsapi.SuccessFirst:
				if ok.Outcome != result.Started {
					t.Fatalf("i-ok = %+v, want Started on its own merits", ok)
				}
			case ecsapi.AllTogether:
				// The call is all or nothing: the partner waits too, with
				// the call's NoStock and its advice, and no partner's words
				// (those are for a refusal that names a culprit).
				if ok.Outcome != result.Unfinished || ok.Code != result.CodeNoStock || ok.Advice != result.Advice(result.CodeNoStock) ||
					strings.Contains(ok.Message, "names no instance") || strings.Contains(ok.Message, "started all together with") {
					t.Fatalf("i-ok = %+v, want Unfinished with the call's NoStock and its advice", ok)
				}
			}
		})
	}
}
