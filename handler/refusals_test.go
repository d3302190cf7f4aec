package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// refusalCarriers send one payload as each trigger an operator writes to:
// a direct payload, a timer's payload, an MNS queue message, and a batch
// (an EventBridge array) in which another message starts an instance of
// its own.
var refusalCarriers = []string{"direct", "timer", "mns", "batch"}

const refusalOther = "i-refuseother01"

func carry(t *testing.T, carrier, body string) string {
	t.Helper()
	switch carrier {
	case "timer":
		return `{"triggerTime":"` + time.Now().UTC().Format(time.RFC3339) + `","triggerName":"t","payload":` + string(mustMarshal(t, body)) + `}`
	case "mns":
		return mnsEvent(t, "m1", body)
	case "batch":
		return "[" + mnsEvent(t, "m0", `{"regionId":"cn-hangzhou","instanceIds":["`+refusalOther+`"]}`) + "," + mnsEvent(t, "m1", body) + "]"
	}
	return body
}

func mnsEvent(t *testing.T, id, body string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"s","type":"mns:Queue:SendMessage","time":"` + time.Now().UTC().Format(time.RFC3339) +
		`","data":{"messageId":"` + id + `","messageBody":` + string(mustMarshal(t, body)) + `}}`
}

// handleLogged runs payload through Handle and gives the result.
func handleLogged(t *testing.T, h *Handler, payload string) result.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-refusal"), 5*time.Second)
	defer cancel()
	out, err := h.Handle(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("%s: %v", payload, err)
	}
	var res result.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return res
}

// checkSummaryMatchesLists fails unless the Summary counts what the
// answer lists (DESIGN §5: the Summary counts the entries the answer
// lists), the mistakes included, and the log has one ignored line per
// Ignored entry.
func checkSummaryMatchesLists(t *testing.T, res result.Result, lines []logLine) {
	t.Helper()
	mistakes := 0
	for _, ig := range res.Ignored {
		if strings.HasPrefix(ig.Reason, "invalid start request") || ig.Code == result.CodeInvalidParameter {
			mistakes++ // every refusal here comes from an operator-written carrier
		}
	}
	for _, ir := range res.InstanceResponses.InstanceResponse {
		if ir.Code == result.CodeInvalidParameter {
			mistakes++
		}
	}
	s := res.Summary
	if s.Ignored != len(res.Ignored) || s.Requested != len(res.InstanceResponses.InstanceResponse) || s.Mistakes != mistakes {
		t.Errorf("Summary %+v for %d instances, %d ignored, %d refusals", s, len(res.InstanceResponses.InstanceResponse), len(res.Ignored), mistakes)
	}
	ignoredLines, mistakeLines := 0, 0
	for _, l := range lines {
		if l["mistake"] == true {
			mistakeLines++
		}
		if l.str("msg") == "ignored" {
			ignoredLines++
		}
	}
	if ignoredLines != len(res.Ignored) || mistakeLines != mistakes {
		t.Errorf("%d ignored lines, %d mistake lines, for %d Ignored entries and %d refusals", ignoredLines, mistakeLines, len(res.Ignored), mistakes)
	}
}

// DESIGN §5, §9: each refused request (or each refused part of it, a
// target or a sequence's group) is reported once — by its instances,
// Rejected, or by one Ignored entry when it names none — whatever carries
// it, and the Summary counts what the lists hold. A refused request with
// targets was listed twice under Ignored (the request, and its target that
// named no instance), so the Summary counted 2 ignored, 2 mistakes.
func TestRefusedRequestIsReportedOnce(t *testing.T) {
	const x = "i-refusedonce01"
	tests := []struct {
		name             string
		body             string
		ignored, refused int // Ignored entries and Rejected instances the refusal makes
	}{
		{"a target's defect", `{"targets":[{"regionId":"cn-hangzhou","tags":[{"key":"env"}],"bogus":1}]}`, 1, 0},
		{"an outer defect beside a target", `{"bogus":1,"targets":[{"regionId":"cn-hangzhou","tags":[{"key":"env"}]}]}`, 1, 0},
		{"two targets naming no instance", `{"bogus":1,"targets":[{"regionId":"cn-hangzhou","tags":[{"key":"env"}]},{"regionId":"cn-shanghai","tags":[{"key":"x"}]}]}`, 2, 0},
		{"a target in a target", `{"targets":[{"regionId":"cn-hangzhou","targets":[{"tags":[{"key":"env"}]}]}]}`, 1, 0},
		{"two groups naming no instance", `{"bogus":1,"sequence":[{"regionId":"cn-hangzhou","tags":[{"key":"env"}]},{"regionId":"cn-hangzhou","tags":[{"key":"x"}]}]}`, 2, 0},
		{"a group naming an instance, one naming none", `{"bogus":1,"sequence":[{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]},{"regionId":"cn-hangzhou","tags":[{"key":"x"}]}]}`, 1, 1},
		{"a target naming an instance", `{"bogus":1,"targets":[{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]}]}`, 0, 1},
		{"no targets", `{"regionId":"cn-hangzhou","targets":[]}`, 1, 0},
		{"tags alone", `{"regionId":"cn-hangzhou","bogus":1,"tags":[{"key":"env"}]}`, 1, 0},
	}
	for _, tc := range tests {
		for _, carrier := range refusalCarriers {
			t.Run(tc.name+"/"+carrier, func(t *testing.T) {
				e := ecsapitest.NewFleet(map[string]string{x: "Stopped", refusalOther: "Stopped"}).ECS()
				h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
				res := handleLogged(t, h, carry(t, carrier, tc.body))
				lines := parseLogs(t, logs.Bytes())
				refused := 0
				for _, ir := range res.InstanceResponses.InstanceResponse {
					if ir.Outcome == result.Rejected {
						refused++
					}
				}
				if len(res.Ignored) != tc.ignored || refused != tc.refused {
					t.Errorf("%d Ignored entries, %d Rejected; want %d and %d: %+v", len(res.Ignored), refused, tc.ignored, tc.refused, res.Ignored)
				}
				checkSummaryMatchesLists(t, res, lines)
				if carrier == "batch" && byID(&res)[refusalOther].Outcome != result.Started {
					t.Errorf("the other message: %+v", byID(&res)[refusalOther])
				}
			})
		}
		t.Run(tc.name+"/http", func(t *testing.T) {
			e := ecsapitest.NewFleet(map[string]string{x: "Stopped"}).ECS()
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "WEBHOOK_SECRET": authTestSecret}, e)
			out, err := h.Handle(invContext(context.Background(), "req-refusal-http"),
				authEvent(t, tc.body, map[string]string{"Authorization": "Bearer " + authTestSecret, "Content-Type": "application/json"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			var resp HTTPResponse
			var eb ErrorBody
			if err := json.Unmarshal(out, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &eb) != nil {
				t.Fatalf("%s", out)
			}
			if resp.StatusCode != 400 || len(eb.Errors) == 0 || len(e.Calls()) > 0 {
				t.Fatalf("HTTP %d, %d calls: %s", resp.StatusCode, len(e.Calls()), resp.Body)
			}
			seen := map[string]bool{}
			for _, fe := range eb.Errors {
				if seen[fe.Field+fe.Message] {
					t.Errorf("the 400 names %s twice: %s", fe.Field, resp.Body)
				}
				seen[fe.Field+fe.Message] = true
			}
		})
	}
}

// DESIGN §4, §5, §9: a refusal is never swallowed by another request's
// success. An invalid request that names an instance a valid request of
// the same invocation also names is still reported: the instance is
// started once and reported once (the valid request's outcome, no
// mistake on it), and the invalid request is one Ignored entry
// (InvalidParameter, a mistake from an operator-written carrier) that
// Summary.Mistakes counts — in either order, whatever makes it invalid
// (a defect, or AllTogether past 100 with the requests it overlaps),
// whether the valid request is a plain one or a sequence's group. Before,
// the instance's entry said Started and the refusal was gone: Mistakes 0.
func TestRefusalIsNotSwallowedByAnotherRequest(t *testing.T) {
	const x = "i-swallowed0001"
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf("i-swallowat%04d", i)
	}
	manyJSON := string(mustMarshal(t, many))
	const fresh = "i-swallowfresh1"
	tests := []struct {
		name    string
		valid   []string // the valid requests, in order
		invalid string
		id      string // the instance the invalid request and a valid one name
		ordered bool   // the invalid request comes last only
	}{
		{"an unknown field", []string{`{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]}`}, `{"regionId":"cn-hangzhou","instanceIds":["` + x + `"],"bogus":1}`, x, false},
		{"a field of the wrong type", []string{`{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]}`}, `{"regionId":"cn-hangzhou","instanceIds":["` + x + `"],"dryRun":"yes"}`, x, false},
		{"a target's defect", []string{`{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]}`}, `{"targets":[{"regionId":"cn-hangzhou","instanceIds":["` + x + `"],"bogus":1}]}`, x, false},
		{"a sequence's group", []string{`{"regionId":"cn-hangzhou","sequence":[{"instanceIds":["` + x + `"]},{"instanceIds":["i-swallowed0002"]}]}`}, `{"regionId":"cn-hangzhou","instanceIds":["` + x + `"],"bogus":1}`, x, false},
		// The third request would bring the AllTogether group of the first
		// past 100; its other instance is the second's.
		{"AllTogether past 100", []string{`{"regionId":"cn-hangzhou","batchOptimization":"AllTogether","instanceIds":` + manyJSON + `}`, `{"regionId":"cn-hangzhou","instanceIds":["` + fresh + `"]}`},
			`{"regionId":"cn-hangzhou","batchOptimization":"AllTogether","instanceIds":["` + many[0] + `","` + fresh + `"]}`, many[0], true},
	}
	for _, tc := range tests {
		for _, invalidFirst := range []bool{false, true} {
			if invalidFirst && tc.ordered {
				continue
			}
			for _, carrier := range []string{"direct", "mns"} {
				t.Run(fmt.Sprintf("%s/invalid first %v/%s", tc.name, invalidFirst, carrier), func(t *testing.T) {
					status := map[string]string{x: "Stopped", "i-swallowed0002": "Stopped", fresh: "Stopped"}
					for _, id := range many {
						status[id] = "Stopped"
					}
					fl := ecsapitest.NewFleet(status)
					e := fl.RunningOnceLookedAt() // a sequence's group runs

					h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
					h.starter.PollInterval = 10 * time.Millisecond
					msgs := append(slices.Clone(tc.valid), tc.invalid)
					if invalidFirst {
						msgs = append([]string{tc.invalid}, tc.valid...)
					}
					if carrier == "mns" {
						for i, m := range msgs {
							msgs[i] = mnsEvent(t, fmt.Sprintf("m%d", i), m)
						}
					}
					payload := "[" + strings.Join(msgs, ",") + "]"
					res := handleLogged(t, h, payload)
					lines := parseLogs(t, logs.Bytes())
					starts := 0
					for _, call := range e.Calls() {
						starts += strings.Count(strings.Join(call.InstanceIDs, ","), tc.id)
					}
					ir := byID(&res)[tc.id]
					if starts != 1 || ir.Outcome != result.Started || ir.Mistake {
						t.Errorf("%s: %d starts, %+v; want started once, reported Started", tc.id, starts, ir)
					}
					var refusals []result.IgnoredEvent
					for _, ig := range res.Ignored {
						if ig.Code == result.CodeInvalidParameter {
							refusals = append(refusals, ig)
						}
					}
					if len(refusals) != 1 || !strings.Contains(refusals[0].Reason, tc.id) || slices.Contains(refusals[0].InstanceIDs, tc.id) {
						t.Fatalf("want the invalid request reported once, naming %s (reported with the other request, not listed again): %+v", tc.id, res.Ignored)
					}
					if res.Summary.Mistakes != 1 {
						t.Errorf("Summary.Mistakes %d, want 1", res.Summary.Mistakes)
					}
					mistakeLines := 0
					for _, l := range lines {
						if l["mistake"] == true {
							mistakeLines++
							if l.str("msg") != "ignored" || l.str("level") != "ERROR" {
								t.Errorf("the mistake's line: %v", l)
							}
						}
					}
					if mistakeLines != 1 {
						t.Errorf("%d mistake lines, want 1", mistakeLines)
					}
				})
			}
		}
	}
}

// No instance an event names goes missing (DESIGN §4): a request refused
// for a misspelt instanceIds ("instanceID", "InstanceIDs" …) names the
// instances in that field with its refusal — never started — at the outer
// level and in a target, from every carrier an operator writes to.
func TestMisspeltIDsAreNamedWithTheRefusal(t *testing.T) {
	const want = "i-bpmisspelt0001"
	for _, body := range []string{
		`{"regionId":"cn-hangzhou","instanceID":["` + want + `"]}`,
		`{"regionId":"cn-hangzhou","InstanceIDs":"` + want + `"}`,
		`{"regionId":"cn-hangzhou","targets":[{"instanceIdz":["` + want + `","not-an-id"]}]}`,
	} {
		for _, carrier := range refusalCarriers {
			e := ecsapitest.NewFleet(ecsapitest.Stopped([]string{want, refusalOther})).ECS()
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
			res := handleLogged(t, h, carry(t, carrier, body))
			named := 0
			for _, ig := range res.Ignored {
				if ig.Code == result.CodeInvalidParameter && slices.Equal(ig.InstanceIDs, []string{want}) {
					named++
				}
			}
			if named != 1 {
				t.Errorf("%s %s: %d refusals name %s, want 1: %+v", carrier, body, named, want, res.Ignored)
			}
			for _, c := range e.Calls() {
				if slices.Contains(c.InstanceIDs, want) {
					t.Errorf("%s %s: %s was sent to ECS", carrier, body, want)
				}
			}
		}
	}
}
