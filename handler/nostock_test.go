package handler

import (
	"bytes"
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
				got := handleUnfinished(t, h, logs, "req-nostock", 1500*time.Millisecond, carrier, body)
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

// refusingFleet answers StartInstances for instance bad with code (HTTP
// status): per instance in SuccessFirst, for the whole call in AllTogether
// or when whole is set; the others start.
func refusingFleet(status map[string]string, bad, code string, httpStatus int, whole bool) *ecsapitest.ECS {
	fl := ecsapitest.NewFleet(status)
	e := fl.ECS()
	e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		if !slices.Contains(in.InstanceIDs, bad) || in.DryRun {
			return fl.Start(in)
		}
		if whole || in.BatchOptimization == ecsapi.AllTogether {
			return nil, &ecsapi.APIError{HTTPStatus: httpStatus, Code: code, Message: "ECS's words for " + code, RequestID: "req-refused"}
		}
		rest := slices.DeleteFunc(slices.Clone(in.InstanceIDs), func(id string) bool { return id == bad })
		out := &ecsapi.StartInstancesOutput{RequestID: "req-start"}
		if len(rest) > 0 {
			started, err := fl.Start(ecsapi.StartInstancesInput{InstanceIDs: rest, BatchOptimization: in.BatchOptimization})
			if err != nil {
				return nil, err
			}
			out.Responses = started.Responses
		}
		out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: bad, Code: code, Message: "ECS's words for " + code,
			PreviousStatus: "Stopped", CurrentStatus: "Stopped"})
		return out, nil
	}
	return e
}

// DESIGN §7, §9: an ECS code is classified by its documented meaning.
// StartInstances documents two answers that mean capacity used up, which
// comes back as instances are stopped or released: OperationDenied.NoStock
// (the zone is sold out) and Invalid.PrivatePoolOptions.NoStock (the
// private pool — elastic assurance, capacity reservation — is used up);
// StartInstance adds LackResource (not enough resource on the capacity
// reservation). Each is retried until the deadline and ends Unfinished,
// Retryable, with its code and an advice that says what it is, whether ECS
// says it of one instance or of the whole call. A quota, a zone that is
// not on sale, or the operator's own dedicated host being full is no
// capacity that comes back by itself: Failed at once. Before,
// Invalid.PrivatePoolOptions.NoStock and LackResource were Failed after one
// call.
func TestCapacityCodesAreRetriedUntilTheDeadline(t *testing.T) {
	const bad, ok = "i-capacity0001", "i-capacity0002"
	for _, tc := range []struct {
		code     string
		status   int
		capacity bool
		advice   string // a piece of the advice
	}{
		{result.CodeNoStock, 403, true, "try again later"},
		{"Invalid.PrivatePoolOptions.NoStock", 400, true, "private pool"},
		{"LackResource", 400, true, "capacity reservation"},
		{"QuotaExceed.ElasticQuota", 403, false, ""},
		{"Zone.NotOnSale", 403, false, ""},
		{"InvalidDedicatedHost.NotEnoughResource", 400, false, ""},
	} {
		for _, shape := range []string{"SuccessFirst per instance", "SuccessFirst whole call", "AllTogether"} {
			t.Run(tc.code+"/"+shape, func(t *testing.T) {
				e := refusingFleet(map[string]string{bad: "Stopped", ok: "Stopped"}, bad, tc.code, tc.status, shape == "SuccessFirst whole call")
				h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
				batch := ecsapi.SuccessFirst
				if shape == "AllTogether" {
					batch = ecsapi.AllTogether
				}
				body := `{"batchOptimization":"` + batch + `","instanceIds":["` + bad + `","` + ok + `"]}`
				ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-capacity"), 1200*time.Millisecond)
				defer cancel()
				_, err := h.Handle(ctx, []byte(body))
				var ue *UnfinishedError
				if tc.capacity != errors.As(err, &ue) {
					t.Fatalf("capacity %v, the invocation returned %v", tc.capacity, err)
				}
				got := map[string]logLine{}
				for _, l := range parseLogs(t, logs.Bytes()) {
					if l.str("msg") == "instance" {
						got[l.str("instanceId")] = l
					}
				}
				l := got[bad]
				calls := len(e.Calls())
				if !tc.capacity {
					if l.str("outcome") != string(result.Failed) || l.str("code") != tc.code {
						t.Errorf("%s: %v, want Failed at once with ECS's code", bad, l)
					}
					return
				}
				if l.str("outcome") != string(result.Unfinished) || l["retryable"] != true || l.str("code") != tc.code ||
					l.str("advice") != result.Advice(tc.code) || !strings.Contains(l.str("advice"), tc.advice) {
					t.Errorf("%s: %v, want Unfinished with %s and its advice (%q)", bad, l, tc.code, tc.advice)
				}
				if calls < 3 {
					t.Errorf("%d StartInstances calls: capacity comes back, so the start is called again until the deadline", calls)
				}
				if shape == "AllTogether" && got[ok].str("outcome") != string(result.Unfinished) {
					t.Errorf("the partner: %v, want Unfinished with the call", got[ok])
				}
			})
		}
	}
}

// DESIGN §7: OperationConflict is retried with backoff. StartInstances
// documents the conflict as InvalidOperation.Conflict (HTTP 409, "Request
// was denied due to conflict with a previous request, please try again
// later"): the same meaning, so the same class. Before, it was Failed after
// one call; now the start is called again and succeeds once the conflict
// clears.
func TestDocumentedConflictIsRetried(t *testing.T) {
	const id = "i-conflict0001"
	for _, code := range []string{"OperationConflict", "InvalidOperation.Conflict"} {
		t.Run(code, func(t *testing.T) {
			fl := ecsapitest.NewFleet(map[string]string{id: "Stopped"})
			e := fl.ECS()
			conflicts := 2
			e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				if conflicts > 0 {
					conflicts--
					return nil, &ecsapi.APIError{HTTPStatus: 409, Code: code, RequestID: "req-conflict",
						Message: "Request was denied due to conflict with a previous request, please try again later."}
				}
				return fl.Start(in)
			}
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
			res, err := handleJSON(t, h, `{"instanceIds":["`+id+`"]}`)
			if err != nil {
				t.Fatal(err)
			}
			if ir := byID(&res)[id]; ir.Outcome != result.Started || len(e.Calls()) != 3 {
				t.Fatalf("%+v after %d calls; want Started on the third", ir, len(e.Calls()))
			}
		})
	}
}

// DESIGN §9 ("a dry run does not wait for stock") with §5 and §7 (a dry
// run's outcome "says what a real run would do"): a dry run that ECS
// refuses for capacity is answered at once — one call, no wait — and each
// member is what a real run would end as, Unfinished (capacity is retried,
// never Failed, §5), Retryable, with ECS's code, words and the code's
// advice; an AllTogether member is never told that ECS "named none of them"
// nor a partner's words: out of stock is no refusal for good. Before, every
// member was Failed with the unblamed partner wording.
func TestDryRunOutOfStockSaysWhatECSSaid(t *testing.T) {
	ids := []string{"i-drystock0001", "i-drystock0002", "i-drystock0003"}
	for _, code := range []string{result.CodeNoStock, result.CodePrivatePoolNoStock, result.CodeCapacityReservationLacks} {
		for _, mode := range []string{"AllTogether", "SuccessFirst"} {
			for _, carrier := range []string{"direct", "http"} {
				t.Run(code+"/"+mode+"/"+carrier, func(t *testing.T) {
					fl := ecsapitest.NewFleet(ecsapitest.Stopped(ids))
					e := fl.ECS()
					e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
						if in.DryRun {
							return nil, &ecsapi.APIError{HTTPStatus: 403, Code: code, RequestID: "req-drystock",
								Message: "The requested resource is sold out in the specified zone."}
						}
						return fl.Start(in)
					}
					h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "WEBHOOK_SECRET": authTestSecret}, e)
					body := `{"dryRun":true,"batchOptimization":"` + mode + `","instanceIds":` + string(mustMarshal(t, ids)) + `}`
					began := time.Now()
					got := handleUnfinished(t, h, logs, "req-drystock", 20*time.Second, carrier, body)
					if took := time.Since(began); took > 3*time.Second {
						t.Errorf("the dry run took %v: it waited for stock", took)
					}
					if n := len(e.Calls()); n != 1 {
						t.Errorf("%d StartInstances calls, want the one dry run", n)
					}
					if len(got) != len(ids) {
						t.Fatalf("%d instances reported, want %d: %+v", len(got), len(ids), got)
					}
					for _, ir := range got {
						if ir.Outcome != result.Unfinished || !ir.Retryable || ir.Code != code || ir.Advice != result.Advice(code) ||
							!strings.Contains(ir.Message, "sold out") || !strings.Contains(ir.Message, "dry run does not wait") {
							t.Errorf("%s: %+v, want Unfinished, %s, ECS's words and the advice", ir.InstanceID, ir, code)
						}
						for _, words := range []string{"named none", "names no instance", "started all together with", "SuccessFirst to see"} {
							if strings.Contains(ir.Message, words) {
								t.Errorf("%s is told %q, a partner's words: %s", ir.InstanceID, words, ir.Message)
							}
						}
					}
				})
			}
		}
	}
}

// OperationDenied.HostRepairing, in StartInstances' and StartInstance's
// error tables: "the operation is not supported while the physical machine
// that hosts the ECS instance is being repaired". A repair ends, so by its
// documented meaning it is transient (DESIGN §7: retried within the
// deadline, then Unfinished, safe to retry) — never a silent Failed — and
// the Unfinished instance carries an advice saying what it is. Whether ECS
// says it of one instance (SuccessFirst) or of the whole call: the
// instance starts when the repair ends within the invocation, and is
// Unfinished with the code and advice when it does not. Before, it was
// Failed after one call, with no advice.
func TestHostRepairingIsRetriedThenUnfinishedWithAdvice(t *testing.T) {
	const bad, ok = "i-repairing0001", "i-repairing0002"
	for _, shape := range []string{"SuccessFirst per instance", "SuccessFirst whole call", "AllTogether"} {
		for _, ends := range []bool{false, true} {
			name := shape + "/repair lasts"
			if ends {
				name = shape + "/repair ends"
			}
			t.Run(name, func(t *testing.T) {
				refusing := refusingFleet(map[string]string{bad: "Stopped", ok: "Stopped"}, bad, result.CodeHostRepairing, 403, shape == "SuccessFirst whole call")
				fl := ecsapitest.NewFleet(map[string]string{bad: "Stopped", ok: "Stopped"})
				refused := 0
				e := refusing
				refuse := refusing.Start
				e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
					if ends && slices.Contains(in.InstanceIDs, bad) && refused == 2 {
						return fl.Start(in) // the repair is over
					}
					if slices.Contains(in.InstanceIDs, bad) {
						refused++
					}
					return refuse(in)
				}
				h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
				batch := ecsapi.SuccessFirst
				if shape == "AllTogether" {
					batch = ecsapi.AllTogether
				}
				body := `{"batchOptimization":"` + batch + `","instanceIds":["` + bad + `","` + ok + `"]}`
				ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-repair"), 1200*time.Millisecond)
				defer cancel()
				_, err := h.Handle(ctx, []byte(body))
				var ue *UnfinishedError
				if unfinished := errors.As(err, &ue); unfinished == ends {
					t.Fatalf("repair ends %v: the invocation returned %v", ends, err)
				}
				got := map[string]logLine{}
				for _, l := range parseLogs(t, logs.Bytes()) {
					if l.str("msg") == "instance" {
						got[l.str("instanceId")] = l
					}
				}
				if refused < 2 {
					t.Errorf("%d calls refused for the repair: it was not retried", refused)
				}
				if ends {
					for _, id := range []string{bad, ok} {
						if o := got[id].str("outcome"); o != string(result.Started) {
							t.Errorf("%s: %s, want Started once the repair ended", id, o)
						}
					}
					return
				}
				l := got[bad]
				if l.str("outcome") != string(result.Unfinished) || l["retryable"] != true || l.str("code") != result.CodeHostRepairing ||
					!strings.Contains(l.str("advice"), "being repaired") {
					t.Errorf("%s: %v, want Unfinished, Retryable, %s with its advice", bad, l, result.CodeHostRepairing)
				}
				if shape == "SuccessFirst per instance" && got[ok].str("outcome") != string(result.Started) {
					t.Errorf("%s: %v, want Started on its own merits", ok, got[ok])
				}
			})
		}
	}
}

// handleUnfinished sends body as carrier ("http" over an authenticated
// HTTP trigger, else a direct invoke), requires the invocation to be
// unfinished within timeout (HTTP 503 with a result; an UnfinishedError),
// and gives the
// instances' results: the 503's, or the instance log lines'.
func handleUnfinished(t *testing.T, h *Handler, logs *bytes.Buffer, requestID string, timeout time.Duration, carrier, body string) []result.InstanceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(invContext(context.Background(), requestID), timeout)
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
		return res.InstanceResponses.InstanceResponse
	}
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
	return got
}
