package starter

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// DESIGN §7: an entry of ECS's answer for an instance the call did not name is
// ignored (logged at WARN, never acted on: it passed no policy), and a second
// entry for the same instance is ignored.
func TestUnaskedAndDuplicateEntriesAreIgnored(t *testing.T) {
	for _, batch := range []string{ecsapi.SuccessFirst, ecsapi.AllTogether} {
		for _, code := range []string{"Throttling.User", "IncorrectInstanceStatus", "InvalidInstanceId.NotFound", "200", "ServiceUnavailable"} {
			t.Run(batch+"/"+code, func(t *testing.T) {
				var mu sync.Mutex
				var described []string
				f := &ecsapitest.ECS{
					Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
						out := &ecsapi.StartInstancesOutput{RequestID: "req"}
						for _, id := range in.InstanceIDs {
							out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", PreviousStatus: "Stopped", CurrentStatus: "Starting"})
						}
						// An unasked instance, then each asked one again with another code.
						out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: "i-unasked", Code: code, PreviousStatus: "Stopping"})
						for _, id := range in.InstanceIDs {
							out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: code, PreviousStatus: "Stopping"})
						}
						return out, nil
					},
					Describe: func(_ string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
						mu.Lock()
						described = append(described, ids...)
						mu.Unlock()
						out := &ecsapi.DescribeInstancesOutput{RequestID: "req-d"}
						for _, id := range ids {
							out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, Status: "Stopped"})
						}
						return out, nil
					},
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				s := &Starter{ECS: f, MaxConcurrent: 4, Backoff: fastBackoff}
				res, warnings := s.startAll(ctx, ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"},
					[]Group{{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: batch}})
				calls := f.Calls()
				if len(calls) != 1 {
					t.Fatalf("%d StartInstances calls, want 1: %+v", len(calls), calls)
				}
				if len(described) != 0 {
					t.Fatalf("looked up %v because of entries that should be ignored", described)
				}
				if _, ok := res[ecsapi.InstanceKey(ecsapi.Scope{Region: "cn-hangzhou"}, "i-unasked")]; ok || len(res) != 2 {
					t.Fatalf("results = %+v", res)
				}
				for _, id := range []string{"i-a", "i-b"} {
					if ir := outcomeOf(t, res, id); ir.Outcome != result.Started {
						t.Fatalf("%s = %+v, want Started from its first entry", id, ir)
					}
				}
				var unasked, dups int
				for _, w := range warnings {
					switch {
					case w.InstanceID == "i-unasked" && strings.Contains(w.Reason, "did not ask"):
						unasked++
					case (w.InstanceID == "i-a" || w.InstanceID == "i-b") && strings.Contains(w.Reason, "twice"):
						dups++
					default:
						t.Errorf("unexpected warning %+v", w)
					}
					if w.EcsRequestID != "req" || w.RegionID != "cn-hangzhou" {
						t.Errorf("warning %+v lacks the region or ECS's RequestId", w)
					}
				}
				if unasked != 1 || dups != 2 {
					t.Fatalf("warnings = %+v, want one for the unasked entry and one per duplicate", warnings)
				}
			})
		}
	}
}

// DESIGN §7: the unasked entry must not be started by the
// next call either — the retry of a throttled instance sends only it.
func TestRetriesSendOnlyAskedInstances(t *testing.T) {
	n := 0
	f := &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		n++
		out := &ecsapi.StartInstancesOutput{RequestID: "req"}
		for _, id := range in.InstanceIDs {
			code := "200"
			if n == 1 {
				code = "Throttling.User"
			}
			out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: code, PreviousStatus: "Stopped"})
		}
		out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: "i-d", Code: "Throttling.User"})
		return out, nil
	}}
	res := runStart(t, f, 2*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a"}, BatchOptimization: ecsapi.SuccessFirst})
	for _, c := range f.Calls() {
		if slices.Contains(c.InstanceIDs, "i-d") {
			t.Fatalf("a call started an instance only ECS's answer named: %+v", f.Calls())
		}
	}
	if ir := outcomeOf(t, res, "i-a"); ir.Outcome != result.Started || len(f.Calls()) != 2 {
		t.Fatalf("i-a = %+v after %d calls", ir, len(f.Calls()))
	}
}

// DESIGN §7: an instance the answer omits — in any mode,
// AllTogether included — is MissingInstanceResponse, transient: asked again,
// and Unfinished if ECS never mentions it.
func TestOmittedInstanceIsMissingInEveryMode(t *testing.T) {
	for _, batch := range []string{ecsapi.SuccessFirst, ecsapi.AllTogether} {
		t.Run(batch+"/never", func(t *testing.T) {
			f := &ecsapitest.ECS{Start: func(_ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				return &ecsapi.StartInstancesOutput{RequestID: "req-empty"}, nil
			}}
			res := runStart(t, f, time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: batch})
			for _, id := range []string{"i-a", "i-b"} {
				if ir := outcomeOf(t, res, id); ir.Outcome != result.Unfinished || ir.Code != result.CodeMissingInstanceResponse || !ir.Retryable {
					t.Fatalf("%s = %+v, want Unfinished %s", id, ir, result.CodeMissingInstanceResponse)
				}
			}
			if n := len(f.Calls()); n < 2 {
				t.Fatalf("%d calls: a missing entry was not asked again", n)
			}
		})
		t.Run(batch+"/partly then answered", func(t *testing.T) {
			fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-a", "i-b"}))
			n := 0
			f := &ecsapitest.ECS{Describe: fl.DescribeIDs, Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				n++
				out, err := fl.Start(in)
				if n == 1 && err == nil {
					out.Responses = out.Responses[:1] // i-b started, but not said
				}
				return out, err
			}}
			res := runStart(t, f, 2*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: batch})
			if ir := outcomeOf(t, res, "i-a"); ir.Outcome != result.Started {
				t.Fatalf("i-a = %+v", ir)
			}
			if ir := outcomeOf(t, res, "i-b"); ir.Outcome != result.AlreadyRunning {
				t.Fatalf("i-b = %+v, want AlreadyRunning after it was asked again", ir)
			}
			if c := f.Calls(); len(c) < 2 || !slices.Equal(c[1].InstanceIDs, []string{"i-b"}) {
				t.Fatalf("calls = %+v, want the omitted instance asked again alone", c)
			}
		})
	}
}
