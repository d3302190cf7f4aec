package handler

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// soldOutFleet answers like ECS for a fleet in which soldOut is stopped in
// economical mode in a zone without stock: an AllTogether call naming it is
// refused whole (HTTP 403, OperationDenied.NoStock, no instance named); a
// running instance fails an AllTogether call with IncorrectInstanceStatus
// first, as ECS does.
func soldOutFleet(status map[string]string, soldOut string) *ecsapitest.ECS {
	fl := ecsapitest.NewFleet(status)
	e := fl.ECS()
	e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		if in.BatchOptimization == ecsapi.AllTogether && !in.DryRun && slices.Contains(in.InstanceIDs, soldOut) {
			fl.Mu.Lock()
			running := slices.ContainsFunc(in.InstanceIDs, func(id string) bool { return fl.Status[id] != "Stopped" })
			fl.Mu.Unlock()
			if !running {
				return nil, &ecsapi.APIError{HTTPStatus: 403, Code: result.CodeNoStock, RequestID: "req-nostock",
					Message: "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones."}
			}
		}
		return fl.Start(in)
	}
	return e
}

// DESIGN §7, §9: the partner and culprit explanation of an AllTogether
// refusal applies only to refusals that name a culprit instance (one not
// found, or locked). OperationDenied.NoStock of a whole AllTogether call
// names none and is no refusal for good: it is retried until the deadline
// and ends Unfinished, Retryable, with Code OperationDenied.NoStock and its
// advice for every member — never told that ECS "names no instance" (the
// words of a refusal for good) nor a partner's "started all together with".
// Before, every member's Message ended "(ECS refused the AllTogether call
// as a whole and names no instance: …)".
func TestAllTogetherNoStockIsUnfinishedForEveryMember(t *testing.T) {
	const ns, a, b, run = "i-nostockat0001", "i-nostockat0002", "i-nostockat0003", "i-nostockat0004"
	for _, tc := range []struct {
		name    string
		ids     []string
		running string // a member already Running: AlreadyRunning, the rest retried
	}{
		{"whole call", []string{ns, a, b}, ""},
		{"a member already running", []string{ns, a, run}, run},
	} {
		for _, carrier := range []string{"direct", "http"} {
			t.Run(tc.name+"/"+carrier, func(t *testing.T) {
				e := soldOutFleet(map[string]string{ns: "Stopped", a: "Stopped", b: "Stopped", run: "Running"}, ns)
				h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "WEBHOOK_SECRET": authTestSecret, "HTTP_WAIT": "600ms"}, e)
				body := `{"batchOptimization":"AllTogether","instanceIds":` + string(mustMarshal(t, tc.ids)) + `}`
				ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-nostock"), 1500*time.Millisecond)
				defer cancel()
				var got []result.InstanceResult
				if carrier == "http" {
					out, err := h.Handle(ctx, authEvent(t, body, map[string]string{"Authorization": "Bearer " + authTestSecret, "Content-Type": "application/json"}, nil))
					if err != nil {
						t.Fatal(err)
					}
					var resp HTTPResponse
					var res result.Result
					if json.Unmarshal(out, &resp) != nil || json.Unmarshal([]byte(resp.Body), &res) != nil || resp.StatusCode != 503 {
						t.Fatalf("want a 503 with a result: %s", out)
					}
					got = res.InstanceResponses.InstanceResponse
				} else {
					_, err := h.Handle(ctx, []byte(body))
					var ue *UnfinishedError
					if !errors.As(err, &ue) {
						t.Fatalf("want the invocation unfinished, got %v", err)
					}
					for _, l := range parseLogs(t, logs.Bytes()) {
						if l.str("msg") == "instance" {
							got = append(got, result.InstanceResult{InstanceID: l.str("instanceId"), Outcome: result.Outcome(l.str("outcome")),
								Code: l.str("code"), Message: l.str("message"), Advice: l.str("advice"), Retryable: l["retryable"] == true})
						}
					}
				}
				if len(got) != len(tc.ids) {
					t.Fatalf("%d instances reported, want %d: %+v", len(got), len(tc.ids), got)
				}
				for _, ir := range got {
					if ir.InstanceID == tc.running {
						if ir.Outcome != result.AlreadyRunning {
							t.Errorf("%s: %+v, want AlreadyRunning", ir.InstanceID, ir)
						}
						continue
					}
					if ir.Outcome != result.Unfinished || !ir.Retryable || ir.Code != result.CodeNoStock || ir.Advice != result.Advice(result.CodeNoStock) {
						t.Errorf("%s: %+v, want Unfinished, %s, with its advice", ir.InstanceID, ir, result.CodeNoStock)
					}
					for _, words := range []string{"names no instance", "named none", "started all together with", "does not exist"} {
						if strings.Contains(ir.Message, words) {
							t.Errorf("%s is told %q, the words of a refusal that names a culprit: %s", ir.InstanceID, words, ir.Message)
						}
					}
				}
				for _, c := range e.Calls() {
					if c.BatchOptimization != ecsapi.AllTogether {
						t.Errorf("all or nothing broken: %+v", c)
					}
				}
				if n := len(e.Calls()); n < 3 {
					t.Errorf("%d StartInstances calls: NoStock is retried until the deadline", n)
				}
			})
		}
	}
}
