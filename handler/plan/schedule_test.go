package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// decodeRequest is the one request of a direct payload, decoded as the
// function decodes it; a decoding defect fails the test.
func decodeRequest(t *testing.T, payload string) events.StartRequest {
	t.Helper()
	msgs := events.Decode([]byte(payload))
	if len(msgs) != 1 || len(msgs[0].Errors) > 0 {
		t.Fatalf("decode %s: %+v", payload, msgs)
	}
	return msgs[0].Request
}

// DESIGN §3.2: every 1m to 24h in whole minutes; tagKey a valid ECS tag
// key; preview 1h to 31d and only beside schedule; schedule never beside
// instanceIds, tags or sequence, nor inside a sequence's group; targets
// inherit schedule and preview as outer fields; workDates are Saturdays or
// Sundays. Each error names the field as spelled and quotes the value.
func TestValidateSchedule(t *testing.T) {
	cases := []struct {
		name, payload string
		field, says   string // "" for valid
	}{
		{"valid", `{"regionId":"cn-hangzhou","schedule":{"tagKey":"start-schedule","every":"5m"}}`, "", ""},
		{"valid ECS spelling, preview in days", `{"RegionId":"cn-hangzhou","Schedule":{"Every":"24h"},"Preview":"31d"}`, "", ""},
		{"preview needs no every", `{"schedule":{},"preview":"1h"}`, "", ""},
		{"valid in targets", `{"schedule":{"every":"5m"},"targets":[{"regionId":"cn-hangzhou"},{"regionId":"cn-beijing","roleArn":"acs:ram::1234567890123456:role/t"}]}`, "", ""},
		{"workDates on a Saturday", `{"schedule":{"every":"5m"},"workDates":["2027-02-20"],"skipDates":["2027-02-15"]}`, "", ""},
		{"every missing", `{"schedule":{"tagKey":"k"}}`, "schedule.every", "is required"},
		{"every missing, ECS", `{"Schedule":{}}`, "Schedule.Every", "is required"},
		{"every too short", `{"schedule":{"every":"30s"}}`, "schedule.every", `"30s" is not the timer's period`},
		{"every too long", `{"schedule":{"every":"25h"}}`, "schedule.every", `"25h"`},
		{"every not whole minutes", `{"schedule":{"every":"90s"}}`, "schedule.every", `"90s"`},
		{"every not a duration", `{"Schedule":{"Every":"five"}}`, "Schedule.Every", `"five"`},
		{"tagKey empty", `{"schedule":{"tagKey":"","every":"5m"}}`, "schedule.tagKey", "is empty"},
		{"tagKey of ECS's own", `{"schedule":{"tagKey":"acs:schedule","every":"5m"}}`, "schedule.tagKey", `"acs:schedule" starts with aliyun or acs:`},
		{"tagKey too long", `{"schedule":{"tagKey":"` + strings.Repeat("k", 129) + `","every":"5m"}}`, "schedule.tagKey", "129 characters"},
		{"preview too short", `{"schedule":{"every":"5m"},"preview":"30m"}`, "preview", `"30m" is not a period of 1h to 31d`},
		{"preview too long", `{"schedule":{"every":"5m"},"Preview":"32d"}`, "Preview", `"32d"`},
		{"preview not a period", `{"schedule":{"every":"5m"},"preview":"a week"}`, "preview", `"a week"`},
		{"preview alone", `{"instanceIds":["i-bp67acfmxazb4p0001"],"preview":"7d"}`, "preview", "only beside schedule"},
		{"preview beside targets without a schedule", `{"preview":"7d","targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}]}`, "targets[0].preview", "only beside schedule"},
		{"beside instanceIds", `{"instanceIds":["i-bp67acfmxazb4p0001"],"schedule":{"every":"5m"}}`, "instanceIds", "cannot stand beside schedule"},
		{"beside ECS tags", `{"Tag.1.Key":"env","Schedule":{"Every":"5m"}}`, "Tag.N", "cannot stand beside schedule"},
		{"beside sequence", `{"schedule":{"every":"5m"},"sequence":[{"instanceIds":["i-bp67acfmxazb4p0001"]},{"instanceIds":["i-bp67acfmxazb4p0002"]}]}`, "sequence", "cannot stand beside schedule"},
		{"in a sequence group", `{"sequence":[{"schedule":{"every":"5m"}},{"instanceIds":["i-bp67acfmxazb4p0002"]}]}`, "sequence[0].schedule", "cannot be a group"},
		{"target naming instances beside an outer schedule", `{"schedule":{"every":"5m"},"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}]}`, "targets[0].instanceIds", "cannot stand beside schedule"},
		{"target's own bad every", `{"targets":[{"regionId":"cn-hangzhou","schedule":{"every":"0m"}}]}`, "targets[0].schedule.every", `"0m"`},
		{"workDates on a weekday", `{"schedule":{"every":"5m"},"workDates":["2027-02-19"]}`, "workDates[0]", `"2027-02-19" is a Friday`},
		{"workDates not a date", `{"instanceIds":["i-bp67acfmxazb4p0001"],"workDates":["2027-02-30"]}`, "workDates[0]", "not a date"},
		{"workDates and skipDates", `{"schedule":{"every":"5m"},"workDates":["2027-02-20"],"skipDates":["2027-02-20"]}`, "workDates[0]", "skipDates too"},
		{"workDates empty", `{"schedule":{"every":"5m"},"workDates":[]}`, "workDates", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate(decodeRequest(t, tc.payload))
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("valid request refused: %+v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == tc.field && strings.Contains(e.Message, tc.says) {
					return
				}
			}
			t.Fatalf("errors %+v, want %s: %q", errs, tc.field, tc.says)
		})
	}
}

func TestParsePreviewAndEvery(t *testing.T) {
	for s, want := range map[string]time.Duration{"1h": time.Hour, "7d": 7 * 24 * time.Hour, "31d": 31 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if d, ok := ParsePreview(s); !ok || d != want {
			t.Errorf("ParsePreview(%q) = %v, %v; want %v", s, d, ok, want)
		}
	}
	for _, s := range []string{"59m", "0d", "32d", "d", "-1d", "07d", "1.5d", "745h"} {
		if d, ok := ParsePreview(s); ok {
			t.Errorf("ParsePreview(%q) = %v, want refused", s, d)
		}
	}
	for _, s := range []string{"1m", "5m", "24h", "1h30m"} {
		if _, ok := ParseEvery(s); !ok {
			t.Errorf("ParseEvery(%q) refused", s)
		}
	}
	for _, s := range []string{"59s", "61s", "24h1m", "0", "5"} {
		if _, ok := ParseEvery(s); ok {
			t.Errorf("ParseEvery(%q) accepted", s)
		}
	}
}

func scheduled(id, value string) ecsapi.InstanceInfo {
	return ecsapi.InstanceInfo{InstanceID: id, RegionID: "cn-hangzhou", Status: "Stopped", Tags: map[string]string{"start-schedule": value}}
}

// The verdict of a tick on each instance (DESIGN §3.2): due when a start
// time on an allowed day falls in (T − every, T], days judged in the
// schedule's own zone, skip dates holding for every schedule and make-up
// days adding to workdays.
func TestScheduleDecide(t *testing.T) {
	cfg := ScheduleConfig{
		Named:     map[string]string{"office": "08:00 workdays Asia/Shanghai"},
		SkipDates: []string{"2027-02-15"}, // a Monday of the Spring Festival
		WorkDates: []string{"2027-02-20"}, // a make-up Saturday
	}
	shanghai := time.FixedZone("CST", 8*3600)
	at := func(s string) time.Time {
		t.Helper()
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	cases := []struct {
		name    string
		payload string
		cfg     ScheduleConfig
		T       time.Time
		info    ecsapi.InstanceInfo
		verdict ScheduleVerdict
		at      string // ScheduledAtText when Due
		says    string // Message when invalid
	}{
		{"make-up Saturday is a workday", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 20, 8, 3, 0, 0, shanghai),
			scheduled("i-1", "08:00 workdays Asia/Shanghai"), Due, "2027-02-20T08:00:00+08:00", ""},
		{"a Saturday without WORK_DATES is not", `{"schedule":{"every":"5m"}}`, ScheduleConfig{}, time.Date(2027, 2, 20, 8, 3, 0, 0, shanghai),
			scheduled("i-1", "08:00 workdays Asia/Shanghai"), NotDue, "", ""},
		{"make-up day by the request's workDates", `{"schedule":{"every":"5m"},"workDates":["2027-02-20"]}`, ScheduleConfig{}, time.Date(2027, 2, 20, 8, 3, 0, 0, shanghai),
			scheduled("i-1", "08:00 workdays Asia/Shanghai"), Due, "2027-02-20T08:00:00+08:00", ""},
		{"make-up day does not add to MON-FRI", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 20, 8, 3, 0, 0, shanghai),
			scheduled("i-1", "08:00 MON-FRI Asia/Shanghai"), NotDue, "", ""},
		{"holiday Monday (SKIP_DATES)", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 15, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "08:00 workdays Asia/Shanghai"), NotDue, "", ""},
		{"skip date holds for daily too", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 15, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "08:00 Asia/Shanghai"), NotDue, "", ""},
		{"the Monday after is due", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "08:00 workdays Asia/Shanghai"), Due, "2027-02-22T08:00:00+08:00", ""},
		{"named schedule from SCHEDULES, any case", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 4, 0, 0, shanghai),
			scheduled("i-1", "Office"), Due, "2027-02-22T08:00:00+08:00", ""},
		{"off", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "off"), ScheduleOff, "", ""},
		{"invalid value", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "8am"), ScheduleInvalid, "", `"8am"`},
		{"an unknown name is invalid", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			scheduled("i-1", "lab"), ScheduleInvalid, "", `"lab"`},
		{"not carrying the key", `{"schedule":{"every":"5m"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			ecsapi.InstanceInfo{InstanceID: "i-1", Tags: map[string]string{"env": "dev"}}, NotScheduled, "", ""},
		{"the request's tagKey", `{"schedule":{"every":"5m","tagKey":"team-start"}}`, cfg, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			ecsapi.InstanceInfo{InstanceID: "i-1", Tags: map[string]string{"team-start": "08:00 Asia/Shanghai", "start-schedule": "off"}}, Due, "2027-02-22T08:00:00+08:00", ""},
		{"SCHEDULE_TAG_KEY", `{"schedule":{"every":"5m"}}`, ScheduleConfig{TagKey: "team-start"}, time.Date(2027, 2, 22, 8, 0, 0, 0, shanghai),
			ecsapi.InstanceInfo{InstanceID: "i-1", Tags: map[string]string{"team-start": "08:00 Asia/Shanghai"}}, Due, "2027-02-22T08:00:00+08:00", ""},
		{"window's end T is in", `{"schedule":{"every":"5m"}}`, cfg, at("2027-02-22T00:00:00Z"),
			scheduled("i-1", "00:00 UTC"), Due, "2027-02-22T00:00:00Z", ""},
		{"window's start T − every is out", `{"schedule":{"every":"5m"}}`, cfg, at("2027-02-22T00:05:00Z"),
			scheduled("i-1", "00:00 UTC"), NotDue, "", ""},
		{"just inside T − every", `{"schedule":{"every":"5m"}}`, cfg, at("2027-02-22T00:04:59Z"),
			scheduled("i-1", "00:00 UTC"), Due, "2027-02-22T00:00:00Z", ""},
		{"a time after T is not due yet", `{"schedule":{"every":"5m"}}`, cfg, at("2027-02-21T23:59:59Z"),
			scheduled("i-1", "00:00 UTC"), NotDue, "", ""},
		{"zone east of UTC: Monday 07:30 in Shanghai is Sunday in UTC", `{"schedule":{"every":"5m"},"timeZone":"Asia/Shanghai"}`, ScheduleConfig{}, at("2027-02-21T23:32:00Z"),
			scheduled("i-1", "07:30,13:00 MON-FRI"), Due, "2027-02-22T07:30:00+08:00", ""},
		{"zone east of UTC: Saturday 07:30 in Shanghai is Friday in UTC", `{"schedule":{"every":"5m"},"timeZone":"Asia/Shanghai"}`, ScheduleConfig{}, at("2027-02-19T23:32:00Z"),
			scheduled("i-1", "07:30,13:00 MON-FRI"), NotDue, "", ""},
		{"TIME_ZONE is the default zone", `{"schedule":{"every":"5m"}}`, ScheduleConfig{Zone: mustZone(t, "Asia/Shanghai")}, at("2027-02-22T05:00:00Z"),
			scheduled("i-1", "07:30,13:00 MON-FRI"), Due, "2027-02-22T13:00:00+08:00", ""},
		{"a 24h timer's window", `{"schedule":{"every":"24h"}}`, cfg, time.Date(2027, 2, 22, 0, 0, 0, 0, shanghai),
			scheduled("i-1", "09:00 Asia/Shanghai"), Due, "2027-02-21T09:00:00+08:00", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := decodeRequest(t, tc.payload)
			if errs := Validate(req); len(errs) > 0 {
				t.Fatalf("request refused: %+v", errs)
			}
			tk, err := NewScheduleTick(req, tc.cfg, tc.T)
			if err != nil {
				t.Fatal(err)
			}
			d := tk.Decide(tc.info)
			if d.Verdict != tc.verdict || d.ScheduledAtText() != tc.at {
				t.Fatalf("verdict %d at %q, want %d at %q (%+v)", d.Verdict, d.ScheduledAtText(), tc.verdict, tc.at, d)
			}
			if tc.says != "" && !strings.Contains(d.Message, tc.says) {
				t.Fatalf("message %q does not quote %s", d.Message, tc.says)
			}
			if r := d.Rejection(); (r != nil) != (tc.verdict == ScheduleInvalid) ||
				r != nil && (r.Outcome != result.Rejected || r.Code != result.CodeInvalidSchedule || r.Message != d.Message || r.Advice == "") {
				t.Fatalf("rejection %+v for verdict %d", r, d.Verdict)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// Summary.Scheduled counts the instances carrying the key, Due those due;
// the others are not listed.
func TestScheduleDecideAllCounts(t *testing.T) {
	tk, err := NewScheduleTick(decodeRequest(t, `{"schedule":{"every":"5m"}}`), ScheduleConfig{}, time.Date(2027, 2, 22, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	infos := []ecsapi.InstanceInfo{scheduled("i-1", "08:00"), scheduled("i-2", "09:00"), scheduled("i-3", "off"), scheduled("i-4", "8am"), {InstanceID: "i-5"}}
	ds, n, due := tk.DecideAll(infos)
	if n != 4 || due != 1 || len(ds) != 4 || ds[0].Verdict != Due || ds[3].Verdict != ScheduleInvalid {
		t.Fatalf("scheduled %d due %d decisions %+v", n, due, ds)
	}
}

// The preview (DESIGN §3.2): each instance's next start times in (T,
// T+period], at most 50, RFC 3339 with the zone's offset, skip dates and
// make-up days applied; an invalid value with why.
func TestSchedulePreview(t *testing.T) {
	req := decodeRequest(t, `{"schedule":{},"preview":"7d"}`)
	cfg := ScheduleConfig{SkipDates: []string{"2027-02-22"}, WorkDates: []string{"2027-02-20"}}
	from := time.Date(2027, 2, 19, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tk, err := NewScheduleTick(req, cfg, from)
	if err != nil {
		t.Fatal(err)
	}
	period, _ := ParsePreview(req.Preview)
	every12 := "00:00,02:00,04:00,06:00,08:00,10:00,12:00,14:00,16:00,18:00,20:00,22:00"
	got := tk.Preview([]ecsapi.InstanceInfo{scheduled("i-1", "08:00 workdays Asia/Shanghai"), scheduled("i-2", "8am"),
		scheduled("i-3", "off"), {InstanceID: "i-4"}, scheduled("i-5", every12)}, period, "")
	if len(got) != 4 {
		t.Fatalf("got %d instances, want the 4 carrying the key: %+v", len(got), got)
	}
	want := []string{"2027-02-19T08:00:00+08:00", "2027-02-20T08:00:00+08:00", "2027-02-23T08:00:00+08:00", "2027-02-24T08:00:00+08:00", "2027-02-25T08:00:00+08:00"}
	if !slices.Equal(got[0].Starts, want) {
		t.Errorf("workdays: %v, want %v", got[0].Starts, want)
	}
	if got[1].Code != result.CodeInvalidSchedule || !strings.Contains(got[1].Message, `"8am"`) {
		t.Errorf("invalid: %+v", got[1])
	}
	if len(got[2].Starts) != 0 || got[2].Code != "" {
		t.Errorf("off: %+v", got[2])
	}
	if len(got[3].Starts) != result.MaxPreviewStarts {
		t.Errorf("%d starts listed, want at most %d", len(got[3].Starts), result.MaxPreviewStarts)
	}
}

// One tick over 10,000 instances carrying a handful of values (teams share
// their schedules): DecideAll judges each distinct value once.
func BenchmarkDecideAll10000(b *testing.B) {
	tk, err := NewScheduleTick(events.StartRequest{Schedule: &events.ScheduleSpec{Every: "5m"}}, ScheduleConfig{}, time.Date(2027, 2, 22, 8, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	values := []string{"08:00", "20:00 workdays Asia/Shanghai", "07:30,13:00 MON-FRI", "off", "8am"}
	infos := make([]ecsapi.InstanceInfo, 10000)
	for i := range infos {
		infos[i] = scheduled(fmt.Sprintf("i-%05d", i), values[i%len(values)])
	}
	b.ReportAllocs()
	for b.Loop() {
		tk.DecideAll(infos)
	}
}

// Each instance is judged on its own value: a value shared by many gives
// each of them the same verdict, with its own instance.
func TestDecideAllSharedValues(t *testing.T) {
	tk, err := NewScheduleTick(decodeRequest(t, `{"schedule":{"every":"5m"}}`), ScheduleConfig{}, time.Date(2027, 2, 22, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	infos := []ecsapi.InstanceInfo{scheduled("i-1", "08:00"), scheduled("i-2", "8am"), scheduled("i-3", "08:00"), scheduled("i-4", "8am")}
	ds, n, due := tk.DecideAll(infos)
	if n != 4 || due != 2 || len(ds) != 4 {
		t.Fatalf("scheduled %d due %d: %+v", n, due, ds)
	}
	for i, d := range ds {
		want := tk.Decide(infos[i])
		if d.Instance.InstanceID != infos[i].InstanceID || d.Verdict != want.Verdict || d.Message != want.Message ||
			d.Value != want.Value || !d.ScheduledAt.Equal(want.ScheduledAt) {
			t.Errorf("%d: %+v, want %+v", i, d, want)
		}
	}
}
