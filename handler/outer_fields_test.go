package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// handleJSON sends a direct payload through Handle, with a deadline of 5 s
// (a wait never outlives it); an Unfinished invocation gives its error and
// no result.
func handleJSON(t *testing.T, h *Handler, body string) (result.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-outer"), 5*time.Second)
	defer cancel()
	out, err := h.Handle(ctx, []byte(body))
	var res result.Result
	if err == nil {
		if jerr := json.Unmarshal(out, &res); jerr != nil {
			t.Fatalf("%s: %v", out, jerr)
		}
	}
	return res, err
}

// DESIGN §3.1, outer fields: AllTogether beside targets is all or nothing
// per target. The request sent SuccessFirst and started A while B
// (unknown to ECS) failed.
func TestOuterAllTogetherIsAllOrNothingPerTarget(t *testing.T) {
	const a, b, c = "i-outerat0001", "i-outerat0002", "i-outerat0003"
	e := ecsapitest.NewFleet(map[string]string{a: "Stopped", c: "Stopped"}).ECS() // b does not exist
	h, _ := testHandler(t, nil, e)
	res, err := handleJSON(t, h, fmt.Sprintf(`{"batchOptimization":"AllTogether","targets":[
		{"regionId":"cn-hangzhou","instanceIds":[%q,%q]},{"regionId":"cn-shanghai","instanceIds":[%q]}]}`, a, b, c))
	if err != nil {
		t.Fatal(err)
	}
	got := byID(&res)
	if got[a].Outcome == result.Started || got[b].Outcome != result.Failed {
		t.Errorf("all or nothing broken: A %+v, B %+v", got[a], got[b])
	}
	if got[c].Outcome != result.Started {
		t.Errorf("the other target is its own all-or-nothing call: %+v", got[c])
	}
	for _, call := range e.Calls() {
		if call.BatchOptimization != ecsapi.AllTogether {
			t.Errorf("sent %s: %+v", call.BatchOptimization, call)
		}
	}
}

// DESIGN §3.1, outer fields: an outer wait beside a sequence bounds the
// whole sequence: the group waiting when it ends is Unfinished
// (WaitTimeout), not left to the deadline, and the later groups Skipped.
func TestOuterWaitBoundsTheSequence(t *testing.T) {
	const a, b = "i-outerwt0001", "i-outerwt0002"
	for _, group0 := range []string{
		fmt.Sprintf(`{"instanceIds":[%q]}`, a),
		fmt.Sprintf(`{"wait":"1h","instanceIds":[%q]}`, a),               // the group's own longer wait is cut too
		fmt.Sprintf(`{"targets":[{"wait":"1h","instanceIds":[%q]}]}`, a), // and a group's target's
	} {
		t.Run(group0, func(t *testing.T) {
			e := ecsapitest.NewFleet(map[string]string{a: "Stopped", b: "Stopped"}).ECS() // Starting for ever
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
			h.starter.PollInterval = 20 * time.Millisecond
			ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-wait"), 20*time.Second)
			defer cancel()
			began := time.Now()
			_, err := h.Handle(ctx, fmt.Appendf(nil, `{"wait":"400ms","sequence":[%s,{"instanceIds":[%q]}]}`, group0, b))
			took := time.Since(began)
			var ue *UnfinishedError
			if !errors.As(err, &ue) || !strings.Contains(ue.Message, a+" ("+result.CodeWaitTimeout+")") {
				t.Fatalf("want group 0 Unfinished (WaitTimeout): %v", err)
			}
			if took > 5*time.Second {
				t.Errorf("the sequence ran %s, past its outer wait of 400ms", took)
			}
			for _, call := range e.Calls() {
				if call.InstanceIDs[0] == b {
					t.Errorf("the later group was sent: %+v", call)
				}
			}
		})
	}
}

// DESIGN §3.1 sequence: a group that ends Ignored — its notAfter passed, on
// its own skip date, nothing found by its tags — stops the sequence like a
// failure: the later groups are Skipped (SequenceStopped) and never sent.
func TestIgnoredGroupStopsTheSequence(t *testing.T) {
	today := time.Now().UTC().Format(plan.DateLayout)
	for _, tc := range []struct{ name, group0 string }{
		{"expired", `"notAfter":"2020-01-01T00:00:00Z","instanceIds":["i-ignoredg0001"]`},
		{"skip date", `"skipDates":["` + today + `"],"timeZone":"UTC","instanceIds":["i-ignoredg0001"]`},
		{"nothing found by tags", `"tags":[{"key":"env","value":"nowhere"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const later = "i-ignoredg0002"
			e := ecsapitest.NewFleet(map[string]string{"i-ignoredg0001": "Stopped", later: "Stopped"}).ECS()
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
			res, err := handleJSON(t, h, fmt.Sprintf(`{"sequence":[{%s},{"instanceIds":[%q]}]}`, tc.group0, later))
			if err != nil {
				t.Fatal(err)
			}
			if ir := byID(&res)[later]; ir.Outcome != result.Skipped || ir.Code != result.CodeSequenceStopped || !strings.Contains(ir.Message, "sequence[0]") {
				t.Errorf("the later group: %+v, want Skipped naming sequence[0]", ir)
			}
			if n := len(e.Calls()); n != 0 {
				t.Errorf("%d StartInstances calls, want none", n)
			}
		})
	}
}

// DESIGN §3.1: an instance named by a batch message and by a sequence is
// carried out as each asks, and its one result is that of the ECS call that
// decided it: started for real by the sequence, it is never reported
// DryRunPassed (the other message a dry run), Rejected (the other message
// invalid) or Skipped.
func TestBatchAndSequenceReportTheRealStart(t *testing.T) {
	const x, y = "i-batchseq0001", "i-batchseq0002"
	for _, tc := range []struct{ name, other string }{
		{"other message a dry run", fmt.Sprintf(`{"dryRun":true,"instanceIds":[%q]}`, x)},
		{"other message invalid", fmt.Sprintf(`{"instanceIds":[%q,"i-BAD"]}`, x)},
	} {
		for _, order := range []string{"batch first", "sequence first"} {
			t.Run(tc.name+", "+order, func(t *testing.T) {
				e := ecsapitest.NewFleet(map[string]string{x: "Stopped", y: "Stopped"}).ECS()
				h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
				h.starter.PollInterval = 10 * time.Millisecond
				e.Describe = func(region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
					out := &ecsapi.DescribeInstancesOutput{RequestID: "req-d"}
					for _, id := range ids {
						out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: region, Status: "Running"})
					}
					return out, nil
				}
				seq := fmt.Sprintf(`{"sequence":[{"instanceIds":[%q]},{"instanceIds":[%q]}]}`, x, y)
				body := "[" + tc.other + "," + seq + "]"
				if order == "sequence first" {
					body = "[" + seq + "," + tc.other + "]"
				}
				res, err := handleJSON(t, h, body)
				if err != nil {
					t.Fatal(err)
				}
				realStarts := 0
				for _, call := range e.Calls() {
					if call.InstanceIDs[0] == x && !call.DryRun {
						realStarts++
					}
				}
				if ir := byID(&res)[x]; realStarts != 1 || ir.Outcome != result.Started {
					t.Errorf("%d real starts of %s, reported %+v; want Started", realStarts, x, ir)
				}
				if ir := byID(&res)[y]; ir.Outcome != result.Started {
					t.Errorf("group 1: %+v", ir)
				}
			})
		}
	}
}

// DESIGN §4 bounds: Skipped entries are bounded by MAX_INSTANCES like every
// kind of entry; past it, one Ignored entry per request counts the rest and
// lists the first few. The issue: MAX_INSTANCES=5, a failing group 0, then
// two groups of 200 IDs gave 400 Skipped entries. Named IDs, a group's
// targets and a tag selection all count.
func TestSkippedEntriesAreBounded(t *testing.T) {
	status := map[string]string{}
	group := func(prefix string, n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("%q", fmt.Sprintf("i-%s%05d", prefix, i))
		}
		return "[" + strings.Join(list, ",") + "]"
	}
	fl := ecsapitest.NewFleet(status)
	for i := range 150 {
		id := fmt.Sprintf("i-tagged%05d", i)
		fl.Status[id] = "Stopped"
		fl.Tags[id] = map[string]string{"env": "dev"}
	}
	e := fl.ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": "5"}, e)
	body := fmt.Sprintf(`{"sequence":[{"instanceIds":["i-missing00001"]},{"instanceIds":%s},{"targets":[{"regionId":"cn-shanghai","instanceIds":%s}]},{"tags":[{"key":"env","value":"dev"}]}]}`,
		group("skipa", 200), group("skipb", 200))
	res, err := handleJSON(t, h, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Skipped > 5 {
		t.Errorf("%d Skipped entries, over MAX_INSTANCES (5)", res.Summary.Skipped)
	}
	var sum *result.IgnoredEvent
	for i, ig := range res.Ignored {
		if ig.Code == result.CodeSequenceStopped {
			sum = &res.Ignored[i]
		}
	}
	if sum == nil || sum.InstanceCount != 200+200+150-res.Summary.Skipped || len(sum.InstanceIDs) != plan.MaxListedIDs {
		t.Fatalf("want one Ignored entry counting the rest: %+v (Skipped %d)", sum, res.Summary.Skipped)
	}
	if len(e.Calls()) != 1 {
		t.Errorf("%d calls, want group 0's alone", len(e.Calls()))
	}
}

// DESIGN §3.1 skipDates: SKIP_DATES and a request's, target's or group's
// own skipDates are judged in the zone that applies to it, whatever the
// request's shape. The repro: Pacific/Pago_Pago, three shapes,
// opposite answers.
func TestSkipDatesJudgedAlikeInEveryShape(t *testing.T) {
	pago, _ := plan.LoadZone("Pacific/Pago_Pago")
	// A timer that fired at 2025-12-25T05:00Z, still 2025-12-24 in Pago
	// Pago (UTC-11): the date judged is the trigger's (MAX_EVENT_AGE off).
	at := time.Date(2025, 12, 25, 5, 0, 0, 0, time.UTC)
	day := at.In(pago).Format(plan.DateLayout)
	for _, skip := range []struct {
		name, own string
		env       map[string]string
	}{
		{"own skipDates", `"skipDates":["` + day + `"],`, map[string]string{"MAX_EVENT_AGE": "0"}},
		{"SKIP_DATES", "", map[string]string{"SKIP_DATES": day, "MAX_EVENT_AGE": "0"}},
		{"SKIP_DATES, not the UTC date", "", map[string]string{"SKIP_DATES": at.Format(plan.DateLayout), "MAX_EVENT_AGE": "0"}},
	} {
		wantSkip := !strings.Contains(skip.name, "not the UTC")
		for _, shape := range []struct{ name, body string }{
			{"plain", `{"timeZone":"Pacific/Pago_Pago",%s"regionId":"cn-hangzhou","instanceIds":["i-pagopago0001"]}`},
			{"targets", `{"timeZone":"Pacific/Pago_Pago",%s"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-pagopago0001"]}]}`},
			{"target's own zone", `{"targets":[{"timeZone":"Pacific/Pago_Pago",%s"regionId":"cn-hangzhou","instanceIds":["i-pagopago0001"]}]}`},
			{"sequence", `{"timeZone":"Pacific/Pago_Pago",%s"regionId":"cn-hangzhou","sequence":[{"instanceIds":["i-pagopago0001"]},{"instanceIds":["i-pagopago0002"]}]}`},
			{"group's own zone", `{"regionId":"cn-hangzhou","sequence":[{"timeZone":"Pacific/Pago_Pago",%s"instanceIds":["i-pagopago0001"]},{"timeZone":"Pacific/Pago_Pago",%s"instanceIds":["i-pagopago0002"]}]}`},
		} {
			t.Run(skip.name+"/"+shape.name, func(t *testing.T) {
				fl := ecsapitest.NewFleet(map[string]string{"i-pagopago0001": "Running", "i-pagopago0002": "Running"})
				e := fl.ECS()
				h, _ := testHandler(t, skip.env, e)
				body := strings.ReplaceAll(shape.body, "%s", skip.own)
				timer, _ := json.Marshal(map[string]any{"triggerTime": at.Format(time.RFC3339), "triggerName": "pago", "payload": body})
				res, err := handleJSON(t, h, string(timer))
				if err != nil {
					t.Fatal(err)
				}
				skipped := false
				for _, ig := range res.Ignored {
					skipped = skipped || strings.Contains(ig.Reason, "skip date "+day+" (Pacific/Pago_Pago)")
				}
				if skipped != wantSkip || (len(e.Calls()) == 0) == !skipped {
					t.Errorf("skipped %v with %d calls, want %v: %+v", skipped, len(e.Calls()), wantSkip, res.Ignored)
				}
			})
		}
	}
}

// An unfinished tag selection's error says what is unfinished — the
// selection, its region and tags — never "0 of 0 instances unfinished";
// an instance of another account is named region/account/ID.
func TestUnfinishedErrorNamesWhatIsUnfinished(t *testing.T) {
	res := &result.Result{RequestID: "req-u", Unresolved: []string{"the tags env=dev in cn-hangzhou (Throttling)"}}
	res.Summarize()
	msg := unfinishedError(res).Message
	if strings.Contains(msg, "0 of 0") || strings.Contains(msg, ": ;") || !strings.Contains(msg, "env=dev in cn-hangzhou") {
		t.Errorf("%q", msg)
	}
	res = &result.Result{RequestID: "req-u"}
	res.InstanceResponses.InstanceResponse = []result.InstanceResult{
		{InstanceID: "i-unfin000001", RegionID: "cn-shanghai", AccountID: "1222333444555666", Outcome: result.Unfinished, Code: "Throttling"},
		{InstanceID: "i-unfin000002", RegionID: "cn-hangzhou", Outcome: result.Unfinished, Code: "Throttling"},
	}
	res.Summarize()
	msg = unfinishedError(res).Message
	if !strings.Contains(msg, "cn-shanghai/1222333444555666/i-unfin000001 (Throttling)") || !strings.Contains(msg, "cn-hangzhou/i-unfin000002 (Throttling)") {
		t.Errorf("%q", msg)
	}
	// Through the handler: a selection whose lookup is throttled to the
	// deadline.
	e := &ecsapitest.ECS{ByTags: func(ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
		return nil, &ecsapi.APIError{HTTPStatus: 503, Code: "ServiceUnavailable", Message: "busy", RequestID: "r"}
	}}
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, e)
	ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-u"), 300*time.Millisecond)
	defer cancel()
	_, err := h.Handle(ctx, []byte(`{"tags":[{"key":"env","value":"dev"}]}`))
	var ue *UnfinishedError
	if !errors.As(err, &ue) || strings.Contains(ue.Message, "0 of 0") || !strings.Contains(ue.Message, "the tags env=dev in cn-hangzhou") {
		t.Errorf("%v", err)
	}
}

// DESIGN §3.1: the same instance — (region, account, ID) after every
// default — named by two groups of a sequence is a validation error naming
// both places: one group with regionId and the other relying on
// DEFAULT_REGION_ID, or the instance inside a group's targets.
func TestSequenceOverlapAfterDefaults(t *testing.T) {
	const x = "i-overlap0001"
	for _, tc := range []struct{ name, body, field, first string }{
		{"DEFAULT_REGION_ID", `{"sequence":[{"regionId":"cn-hangzhou","instanceIds":["i-overlap0002","` + x + `"]},{"instanceIds":["` + x + `"]}]}`,
			"sequence[1].instanceIds[0]", "sequence[0].instanceIds[1]"},
		{"in a group's targets", `{"regionId":"cn-hangzhou","sequence":[{"instanceIds":["` + x + `"]},{"targets":[{"instanceIds":["` + x + `"]}]}]}`,
			"sequence[1].targets[0].instanceIds[0]", "sequence[0].instanceIds[0]"},
		{"a target relying on the default", `{"sequence":[{"targets":[{"regionId":"cn-hangzhou","instanceIds":["` + x + `"]}]},{"targets":[{"instanceIds":["` + x + `"]}]}]}`,
			"sequence[1].targets[0].instanceIds[0]", "sequence[0].targets[0].instanceIds[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ecsapitest.NewFleet(map[string]string{x: "Stopped", "i-overlap0002": "Stopped"}).ECS()
			h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "HTTP_AUTH": "secret", "WEBHOOK_SECRET": authTestSecret}, e)
			ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-o"), 5*time.Second)
			defer cancel()
			out, err := h.Handle(ctx, authEvent(t, tc.body, map[string]string{"Authorization": "Bearer " + authTestSecret}, nil))
			if err != nil {
				t.Fatal(err)
			}
			var resp HTTPResponse
			var eb ErrorBody
			if err := json.Unmarshal(out, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &eb) != nil {
				t.Fatalf("%s", out)
			}
			found := false
			for _, fe := range eb.Errors {
				found = found || (fe.Field == tc.field && strings.Contains(fe.Message, tc.first))
			}
			if resp.StatusCode != 400 || !found {
				t.Errorf("%d %+v, want 400 naming %s and %s", resp.StatusCode, eb.Errors, tc.field, tc.first)
			}
			if n := len(e.Calls()); n != 0 {
				t.Errorf("%d calls", n)
			}
		})
	}
	// Two groups in different regions, or accounts, name two instances.
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, ecsapitest.NewFleet(map[string]string{x: "Running"}).ECS())
	for _, body := range []string{
		`{"sequence":[{"regionId":"cn-shanghai","instanceIds":["` + x + `"]},{"instanceIds":["` + x + `"]}]}`,
		`{"sequence":[{"roleArn":"` + roleB + `","instanceIds":["` + x + `"]},{"instanceIds":["` + x + `"]}]}`,
	} {
		res, err := handleJSON(t, h, body)
		if err != nil || res.Summary.Rejected != 0 && strings.Contains(fmt.Sprint(res), "belongs to one group") {
			t.Errorf("%s: %v %+v", body, err, res)
		}
	}
}

// DESIGN §3.1, outer fields: an outer field is only the default of the
// parts that do not set it. A target's own "dryRun": false is a real start
// beside an outer "dryRun": true; a target that says nothing is a dry run,
// and so is every part of a sequence group that says nothing.
func TestOuterDryRunIsADefaultOnly(t *testing.T) {
	const a, b = "i-outerdr0001", "i-outerdr0002"
	for _, shape := range []string{
		`{"dryRun":true,"targets":[{"regionId":"cn-hangzhou","dryRun":false,"instanceIds":[%q]},{"regionId":"cn-hangzhou","instanceIds":[%q]}]}`,
		`{"dryRun":true,"regionId":"cn-hangzhou","sequence":[{"dryRun":false,"instanceIds":[%q]},{"instanceIds":[%q]}]}`,
	} {
		t.Run(shape, func(t *testing.T) {
			fl := ecsapitest.NewFleet(map[string]string{a: "Stopped", b: "Stopped"})
			e := fl.RunningOnceLookedAt()
			h, _ := testHandler(t, nil, e)
			h.starter.PollInterval = 20 * time.Millisecond
			res, err := handleJSON(t, h, fmt.Sprintf(shape, a, b))
			if err != nil {
				t.Fatal(err)
			}
			got := byID(&res)
			if got[a].Outcome != result.Started {
				t.Errorf("the part's own dryRun false lost to the outer default: %+v", got[a])
			}
			if got[b].Outcome != result.DryRunPassed {
				t.Errorf("the part without dryRun did not inherit the outer true: %+v", got[b])
			}
			for _, call := range e.Calls() {
				for _, id := range call.InstanceIDs {
					if id == b && !call.DryRun {
						t.Errorf("%s was sent for real: %+v", b, call)
					}
				}
			}
		})
	}
}
