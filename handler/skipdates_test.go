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

// DESIGN §3.1: skipDates are dates like 2026-12-25 and timeZone an IANA zone;
// a defect names the field or the element as sent.
func TestValidateSkipDatesAndTimeZone(t *testing.T) {
	id := []string{"i-bp67acfmxazb4p0001"}
	tests := []struct {
		name  string
		req   events.StartRequest
		field string
		text  string
	}{
		{"not a date", events.StartRequest{InstanceIDs: id, SkipDates: []string{"2026-12-25", "Christmas"}}, "skipDates[1]", "not a date"},
		{"no such day", events.StartRequest{InstanceIDs: id, SkipDates: []string{"2026-02-30"}}, "skipDates[0]", "not a date"},
		{"not zero-padded", events.StartRequest{InstanceIDs: id, SkipDates: []string{"2026-1-1"}}, "skipDates[0]", "not a date"},
		{"a time, not a date", events.StartRequest{InstanceIDs: id, SkipDates: []string{"2026-12-25T00:00:00Z"}}, "skipDates[0]", "not a date"},
		{"empty list", events.StartRequest{InstanceIDs: id, SkipDates: []string{}}, "skipDates", "is empty"},
		{"unknown zone", events.StartRequest{InstanceIDs: id, TimeZone: "Asia/Atlantis"}, "timeZone", "IANA"},
		{"Local", events.StartRequest{InstanceIDs: id, TimeZone: "Local"}, "timeZone", "IANA"},
		{"zone with a newline", events.StartRequest{InstanceIDs: id, TimeZone: "UTC\n"}, "timeZone", "IANA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range plan.Validate(tc.req) {
				if e.Field == tc.field && strings.Contains(e.Message, tc.text) {
					return
				}
			}
			t.Fatalf("errors %+v, want %s with %q", plan.Validate(tc.req), tc.field, tc.text)
		})
	}
	if errs := plan.Validate(events.StartRequest{InstanceIDs: id, SkipDates: []string{"2028-02-29"}, TimeZone: "America/Argentina/Buenos_Aires"}); len(errs) > 0 {
		t.Errorf("a valid request refused: %+v", errs)
	}
}

// A skip date is judged in the request's zone: 2026-12-24T17:00Z is already
// 2026-12-25 in Shanghai, still 2026-12-24 in UTC. On a skip date the request
// is Ignored with the reason and its instances listed, and nothing is sent.
func TestSkipDateInTheRequestsZone(t *testing.T) {
	const a = "i-skipdate0001"
	sent := time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone, env string
		skipped   bool
	}{
		{"Asia/Shanghai", "", true},
		{"UTC", "", false},
		{"", "", false},                 // default UTC
		{"", "Asia/Shanghai", true},     // TIME_ZONE is the default
		{"UTC", "Asia/Shanghai", false}, // the request's own wins
	} {
		fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a}))
		e := fl.ECS()
		h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "TIME_ZONE": tc.env, "MAX_EVENT_AGE": "0"}, e)
		m := msg("timer", events.StartRequest{InstanceIDs: []string{a}, SkipDates: []string{"2026-12-25"}, TimeZone: tc.zone})
		m.Time = sent
		h.now = func() time.Time { return sent.Add(8 * time.Hour) } // a retry, the next day in UTC too
		res := h.run(context.Background(), testInvocation(h), []events.Message{m}, time.Time{})
		if !tc.skipped {
			if got := byID(res); got[a].Outcome != result.Started {
				t.Errorf("zone %q TIME_ZONE %q: %+v, want Started", tc.zone, tc.env, res)
			}
			continue
		}
		zone := tc.zone
		if zone == "" {
			zone = tc.env
		}
		want := "skip date 2026-12-25 (" + zone + ")"
		if len(res.InstanceResponses.InstanceResponse) != 0 || len(res.Ignored) != 1 ||
			!strings.HasPrefix(res.Ignored[0].Reason, want) || len(res.Ignored[0].InstanceIDs) != 1 || res.Ignored[0].InstanceIDs[0] != a {
			t.Errorf("zone %q TIME_ZONE %q: %+v, want Ignored %q naming %s", tc.zone, tc.env, res, want, a)
		}
		if len(e.Calls()) != 0 {
			t.Errorf("zone %q: a skip date reached ECS", tc.zone)
		}
	}
}

// SKIP_DATES applies to every request, in TIME_ZONE; an invalid one names
// the variable.
func TestSkipDatesFromTheEnvironment(t *testing.T) {
	const a, b = "i-skipenv0001", "i-skipenv0002"
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, b}))
	e := fl.ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "SKIP_DATES": "2026-10-01, 2026-10-02", "TIME_ZONE": "Asia/Shanghai"}, e)
	h.now = func() time.Time { return time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC) } // 00:30 on 1 October in Shanghai
	res := h.run(context.Background(), testInvocation(h), []events.Message{
		msg("one", events.StartRequest{InstanceIDs: []string{a}}),
		msg("two", events.StartRequest{InstanceIDs: []string{b}, TimeZone: "UTC"}),
	}, time.Time{})
	if len(res.Ignored) != 1 || res.Ignored[0].Source != "one" || !strings.Contains(res.Ignored[0].Reason, "SKIP_DATES") ||
		!strings.HasPrefix(res.Ignored[0].Reason, "skip date 2026-10-01 (Asia/Shanghai)") {
		t.Fatalf("%+v", res.Ignored)
	}
	if got := byID(res); got[b].Outcome != result.Started || len(got) != 1 {
		t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
	}
	for name, val := range map[string]string{"SKIP_DATES": "2026-10-01,tomorrow", "TIME_ZONE": "Mars/Olympus"} {
		if _, err := ConfigFromEnv(envOf(map[string]string{name: val})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, val, err)
		}
	}
}
