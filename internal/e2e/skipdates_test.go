package e2e

import (
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// A timer that fired yesterday at 17:00 UTC fired today at 01:00 in Shanghai:
// today's date is a skip date in Asia/Shanghai but not in UTC (DESIGN §3.1).
// Through the real binary: in Shanghai the
// request is Ignored with the reason and sends nothing; in UTC it starts.
func TestSkipDateInShanghaiNotInUTC(t *testing.T) {
	t.Parallel()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	fired := today.Add(-7 * time.Hour)
	date := today.Format("2006-01-02")
	timer := func(zone string) []byte {
		return mustJSON(map[string]any{"triggerTime": fired.Format(time.RFC3339), "triggerName": "morning",
			"payload": string(mustJSON(map[string]any{"regionId": "cn-hangzhou", "instanceIds": []string{"i-bp67acfmxazb4p0001"},
				"skipDates": []string{date}, "timeZone": zone}))})
	}
	h := start(t, map[string]string{"MAX_EVENT_AGE": "48h"}, ecsemu.Options{})
	r := result(t, invoke(t, h, timer("Asia/Shanghai")))
	want := "skip date " + date + " (Asia/Shanghai)"
	if r.Summary.Requested != 0 || len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0].Reason, want) ||
		len(r.Ignored[0].InstanceIDs) != 1 {
		t.Fatalf("%+v, want Ignored with %q", r, want)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls on a skip date", n)
	}
	r = result(t, invoke(t, h, timer("UTC")))
	if got := outcomes(r)["i-bp67acfmxazb4p0001"]; got.Outcome != hresult.Started || len(r.Ignored) != 0 {
		t.Fatalf("in UTC the date is %s: %+v", fired.Format("2006-01-02"), r)
	}
}

// SKIP_DATES is a holiday calendar for every request; a malformed date or
// zone in a request is a 400 naming the field.
func TestSkipDatesCalendarAndBadZone(t *testing.T) {
	t.Parallel()
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	h := start(t, map[string]string{"SKIP_DATES": "2020-01-01," + today, "TIME_ZONE": "Asia/Shanghai", "HTTP_AUTH": "secret", "WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	r := result(t, invoke(t, h, []byte(oneInstance)))
	if r.Summary.Requested != 0 || len(r.Ignored) != 1 || !strings.Contains(r.Ignored[0].Reason, "SKIP_DATES") {
		t.Fatalf("%+v", r)
	}
	a := httpResult(t, invoke(t, h, httpEvent(`{"instanceIds":["i-bp67acfmxazb4p0001"],"timeZone":"Asia/Beijing","skipDates":["2026-13-01"]}`, bearer(), nil)))
	fields := map[string]bool{}
	for _, e := range a.Error.Errors {
		fields[e.Field] = true
	}
	if a.StatusCode != 400 || !fields["timeZone"] || !fields["skipDates[0]"] {
		t.Fatalf("%d %+v, want 400 naming timeZone and skipDates[0]", a.StatusCode, a.Error)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls", n)
	}
}
