package handler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// DESIGN §4: an instance is the pair (region, ID) everywhere — merging, policy,
// limits and the report — the same way whatever the order of the requests.
func TestSameIDInTwoRegionsIsTwoInstances(t *testing.T) {
	const a = "i-tworegion01"
	home := msg("home", events.StartRequest{InstanceIDs: []string{a}})
	away := msg("away", events.StartRequest{RegionID: "cn-beijing", InstanceIDs: []string{a}})
	for _, order := range [][]events.Message{{home, away}, {away, home}} {
		fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a}))
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_REGIONS": "cn-hangzhou"}, fl.ECS())
		res := h.run(context.Background(), testInvocation(h), order, time.Time{})
		got := byPair(res)
		if len(got) != 2 || got["cn-hangzhou/"+a].Outcome != result.Started || got["cn-beijing/"+a].Code != result.CodeNotAllowed {
			t.Fatalf("order %s: %+v", sources(order), res.InstanceResponses.InstanceResponse)
		}
	}
	// MAX_INSTANCES counts pairs: the request that brings a third is refused
	// and reported, never dropped because its ID is known in another region.
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, "i-tworegion02"}))
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": "2"}, fl.ECS())
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("two", events.StartRequest{InstanceIDs: []string{a, "i-tworegion02"}}),
		msg("third", events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{a}}),
	}, time.Time{})
	if res.Summary.Started != 2 || len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeTooManyInstances ||
		res.Ignored[0].Source != "third" || len(res.Ignored[0].InstanceIDs) != 1 || !strings.Contains(res.Ignored[0].Reason, "cn-shanghai") {
		t.Fatalf("%+v / %+v", res.Summary, res.Ignored)
	}
}

// DESIGN §4: a payload the operator wrote that is neither a start request nor
// a known event (a Message with Ignored and Errors) is refused: an HTTP caller
// gets 400 (the plan holds the defects), others an Ignored entry that names
// the unknown fields — from a timer, a direct invoke or a queue at ERROR, as
// an operator mistake (DESIGN §9).
func TestAPayloadThatIsNoRequestIsRefused(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, &ecsapitest.ECS{})
	m := events.Message{Trigger: events.Timer, Source: "timer:morning", Ignored: "timer payload is not a start request",
		Errors: []events.FieldError{{Field: "instanceIdz", Message: "unknown field"}}}
	inv := testInvocation(h)
	p := h.planner().Make(&inv.Invocation, []events.Message{m}, time.Time{})
	if p.InvalidCount != 1 || p.Invalid[0].Field != "instanceIdz" {
		t.Fatalf("an HTTP caller would not get 400: %+v", p.Invalid)
	}
	res := h.run(context.Background(), inv, []events.Message{m}, time.Time{})
	h.flush(inv)
	if len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeInvalidParameter || !strings.Contains(res.Ignored[0].Reason, "instanceIdz: unknown field") {
		t.Fatalf("%+v", res.Ignored)
	}
	var seen bool
	for _, l := range logLines(t, logs) {
		seen = seen || (l["msg"] == "ignored" && l["level"] == "ERROR" && l["mistake"] == true && strings.Contains(l["reason"].(string), "instanceIdz"))
	}
	if !seen || res.Summary.Mistakes != 1 {
		t.Fatalf("no ERROR line with mistake naming the field, or Mistakes %d: %s", res.Summary.Mistakes, logs)
	}
}

// DESIGN §9, operator mistakes: from a timer, a direct invoke or a queue
// message, an event that is not a start request, a request with unknown
// fields or any validation error, or a tag selection in a timer that finds
// nothing: its line is at ERROR with mistake true, and the Summary counts
// Mistakes (the summary line as mistakes). An ECS or CloudMonitor event that
// names nothing to start is news, not a mistake, and so is an expired one.
func TestOperatorMistakesAreErrors(t *testing.T) {
	invalid := events.StartRequest{InstanceIDs: []string{"i-bp1not_an_id"}}
	nothingTagged := events.StartRequest{Tags: []events.TagFilter{{Key: "env", Value: strp("nowhere")}}}
	cases := []struct {
		name    string
		m       events.Message
		mistake bool
	}{
		{"timer not a request", events.Message{Trigger: events.Timer, Source: "timer:t", Ignored: "timer payload is empty"}, true},
		{"direct unknown field", events.Message{Trigger: events.Direct, Source: "direct", Ignored: events.ReasonUnknownPayload,
			Errors: []events.FieldError{{Field: "foo", Message: "unknown field"}}}, true},
		{"mns body not a request", events.Message{Trigger: events.MNS, Source: "mns:q/1", Ignored: events.ReasonNotRequest}, true},
		{"kafka body not a request", events.Message{Trigger: events.Kafka, Source: "kafka:1", Ignored: events.ReasonNotRequest}, true},
		{"mns-topic invalid request", events.Message{Trigger: events.MNSTopic, Source: "mns-topic:t/1", Request: invalid}, true},
		{"timer invalid request", events.Message{Trigger: events.Timer, Source: "timer:t", Request: invalid}, true},
		{"rabbitmq request without instances", events.Message{Trigger: events.RabbitMQ, Source: "rabbitmq:1"}, true},
		{"timer tags find nothing", events.Message{Trigger: events.Timer, Source: "timer:t", Request: nothingTagged}, true},
		{"direct tags find nothing (answered)", events.Message{Trigger: events.Direct, Source: "direct", Request: nothingTagged}, false},
		{"ecs event to Running", events.Message{Trigger: events.ECSEvent, Source: "ecs-event:1", Ignored: "state changed to Running, not Stopped"}, false},
		{"alarm back to OK", events.Message{Trigger: events.CMSAlarm, Source: "cms-alarm:1", Ignored: "alarm state OK"}, false},
		{"http invalid request (answered 400)", events.Message{Trigger: events.HTTP, Source: "http:1", Request: invalid}, false},
		{"timer expired", events.Message{Trigger: events.Timer, Source: "timer:t", Time: time.Now().Add(-48 * time.Hour),
			Request: events.StartRequest{InstanceIDs: []string{"i-bp10000000000000a1"}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-bp10000000000000a1"}))
			h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, fl.ECS())
			inv := testInvocation(h)
			res := h.run(context.Background(), inv, []events.Message{c.m}, time.Time{})
			h.flush(inv)
			var errLine, summary bool
			for _, l := range logLines(t, logs) {
				switch l["msg"] {
				case "ignored", "instance":
					errLine = errLine || (l["level"] == "ERROR" && l["mistake"] == true)
					if l["mistake"] != nil && !c.mistake {
						t.Errorf("a line says mistake: %v", l)
					}
				case "summary":
					summary = l["mistakes"] == float64(res.Summary.Mistakes)
				}
			}
			if errLine != c.mistake || (res.Summary.Mistakes > 0) != c.mistake || !summary {
				t.Fatalf("mistake %v: ERROR line %v, Mistakes %d, summary line agrees %v: %s", c.mistake, errLine, res.Summary.Mistakes, summary, logs)
			}
		})
	}
}

// DESIGN §5: a refused request reports every ID it held as Rejected, each with
// its own defect found through FieldError.Elem (never by parsing the field's
// text), named as the caller spelled it; a non-string element is a defect of
// the request, not a phantom instance, and not "instanceIds is required".
func TestARefusedRequestReportsEachIDWithItsOwnDefect(t *testing.T) {
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, &ecsapitest.ECS{})
	// {"InstanceId.1":"i-aaaaaa01","InstanceId.2":"web-server-01","InstanceId.3":5} as the decoder gives it.
	m := events.Message{Trigger: events.Direct, Source: "direct",
		Request: events.StartRequest{InstanceIDs: []string{"i-aaaaaa01", "web-server-01", ""},
			IDFields: []string{"InstanceId.1", "InstanceId.2", "InstanceId.7"}},
		Errors: []events.FieldError{{Field: "InstanceId.3", Message: "is a number, not a string"}}}
	res := h.run(context.Background(), testInvocation(h), []events.Message{m}, time.Time{})
	got := byID(res)
	if len(got) != 2 {
		t.Fatalf("want i-aaaaaa01 and web-server-01, no phantom: %+v", res.InstanceResponses.InstanceResponse)
	}
	if ir := got["web-server-01"]; ir.Outcome != result.Rejected || !strings.HasPrefix(ir.Message, `invalid start request: InstanceId.2: "web-server-01" is not an instance ID`) {
		t.Fatalf("%+v", ir)
	}
	if ir := got["i-aaaaaa01"]; ir.Outcome != result.Rejected || !strings.Contains(ir.Message, "InstanceId.3: is a number") ||
		strings.Contains(ir.Message, "required") {
		t.Fatalf("%+v", ir)
	}
	// Only non-strings: the request's own defect, not "required".
	m.Request = events.StartRequest{}
	for _, e := range plan.ValidateRequest(m.Request, true) {
		if strings.Contains(e.Message, "required") {
			t.Fatalf("%+v", e)
		}
	}
}

// DESIGN §5: errors name the field as the caller spelled it, per-ID errors
// carry the ID's index; values are taken as sent, nothing is trimmed.
func TestValidateSpellsFieldsAsSentAndTrimsNothing(t *testing.T) {
	req := events.StartRequest{RegionID: "CN_HZ", InstanceIDs: []string{"i-bp67acfmxazb4p0001", "web-server-01"},
		IDFields: []string{"InstanceId.1", "InstanceId.5"}, FieldNames: map[string]string{"regionId": "RegionId"}}
	errs := plan.Validate(req)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
		if e.Field == "InstanceId.5" {
			if i, ok := e.Index(); !ok || i != 1 {
				t.Fatalf("Elem %d", e.Elem)
			}
		}
	}
	if strings.Join(fields, ",") != "RegionId,InstanceId.5" {
		t.Fatalf("%+v", errs)
	}
	for _, tc := range []events.StartRequest{
		{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}, BatchOptimization: " AllTogether"},
		{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}, BatchOptimization: "AllTogether\n"},
		{InstanceIDs: []string{"i-bp67acfmxazb4p0001\n"}},
		{InstanceIDs: []string{"\u00a0i-bp67acfmxazb4p0001\u0085"}},
		{RegionID: "cn-hangzhou\n", InstanceIDs: []string{"i-bp67acfmxazb4p0001"}},
	} {
		if len(plan.Validate(tc)) == 0 {
			t.Errorf("accepted after trimming: %q %q %q", tc.RegionID, tc.InstanceIDs, tc.BatchOptimization)
		}
	}
}

// DESIGN §4: expiry treats a time in the future as now: such an event is
// fresh, and its age is never negative.
func TestAFutureEventTimeCountsAsNow(t *testing.T) {
	h, _ := testHandler(t, nil, &ecsapitest.ECS{})
	now := time.Now()
	if why := h.planner().EventExpired(events.Message{Time: now.Add(3 * time.Hour)}, now); why != "" {
		t.Fatal(why)
	}
	if why := h.planner().EventExpired(events.Message{Time: now.Add(-2 * time.Hour)}, now); !strings.Contains(why, "2h0m0s old") {
		t.Fatal(why)
	}
}
