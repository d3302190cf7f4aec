package handler

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// The schedule fleet of these tests: what each instance's start-schedule
// tag says, and its status.
const (
	schedWorkdays = "i-schedtest0001" // 08:00 workdays Asia/Shanghai
	schedOffice   = "i-schedtest0002" // office (SCHEDULES)
	schedWeekend  = "i-schedtest0003" // 09:00 SAT,SUN Asia/Shanghai
	schedOff      = "i-schedtest0004" // off
	schedInvalid  = "i-schedtest0005" // 8am
	schedRunning  = "i-schedtest0006" // 08:00 daily Asia/Shanghai, Running
	schedNone     = "i-schedtest0007" // no schedule tag
)

func scheduleFleet() *ecsapitest.Fleet {
	fl := ecsapitest.NewFleet(map[string]string{schedWorkdays: "Stopped", schedOffice: "Stopped", schedWeekend: "Stopped",
		schedOff: "Stopped", schedInvalid: "Stopped", schedRunning: "Running", schedNone: "Stopped"})
	for id, v := range map[string]string{schedWorkdays: "08:00 workdays Asia/Shanghai", schedOffice: "office", schedWeekend: "09:00 SAT,SUN Asia/Shanghai",
		schedOff: "off", schedInvalid: "8am", schedRunning: "08:00 daily Asia/Shanghai"} {
		fl.Tags[id] = map[string]string{"start-schedule": v}
	}
	fl.Tags[schedNone] = map[string]string{"env": "dev"}
	return fl
}

// scheduleEnv is a calendar in which Saturday 2027-02-20 is a make-up
// working day and Monday 2027-02-22 a holiday.
func scheduleEnv() map[string]string {
	return map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_EVENT_AGE": "0", "WORK_DATES": "2027-02-20", "SKIP_DATES": "2027-02-22",
		"SCHEDULES": `{"office":"08:00 workdays Asia/Shanghai"}`}
}

// timerTick is a timer event fired at triggerTime with payload.
func timerTick(triggerTime, payload string) []byte {
	b, _ := json.Marshal(map[string]string{"triggerTime": triggerTime, "triggerName": "schedule-tick", "payload": payload})
	return b
}

// runPayload runs payload as an invocation; a timer event's runs 20 s after
// its triggerTime, as a timer's does.
func runPayload(t *testing.T, h *Handler, payload []byte) *result.Result {
	t.Helper()
	var ev struct {
		TriggerTime time.Time `json:"triggerTime"`
	}
	if json.Unmarshal(payload, &ev) == nil && !ev.TriggerTime.IsZero() {
		h.now = func() time.Time { return ev.TriggerTime.Add(20 * time.Second) }
	}
	inv := testInvocation(h)
	res := h.run(context.Background(), inv, events.Decode(payload), time.Time{})
	h.flush(inv)
	return res
}

func startedIDs(e *ecsapitest.ECS) []string {
	var ids []string
	for _, c := range e.Calls() {
		ids = append(ids, c.InstanceIDs...)
	}
	slices.Sort(ids)
	return ids
}

// DESIGN §3.2: a tick starts exactly the instances due in (T − every, T]
// — workdays with the make-up Saturday, a SCHEDULES name — as a tag
// selection's (Running: AlreadyRunning, no call), each once with
// ScheduledAt in its result and scheduledAt in its log line; the not-due
// are not listed, the Summary counts Scheduled and Due, an invalid value
// is Rejected InvalidSchedule. The same triggerTime again starts nothing
// new; a holiday (SKIP_DATES) starts none, and is not the whole request's
// skip date (§3.1's rule does not apply to a schedule).
func TestScheduleTickStartsTheDueInstances(t *testing.T) {
	fl := scheduleFleet()
	ecs := fl.ECS()
	h, logs := testHandler(t, scheduleEnv(), ecs)
	tick := `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`

	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", tick))
	if got, want := startedIDs(ecs), []string{schedWorkdays, schedOffice}; !slices.Equal(got, want) {
		t.Fatalf("started %v, want %v", got, want)
	}
	got := byID(res)
	if len(got) != 4 {
		t.Fatalf("listed %d instances, want the 3 due and the invalid one: %+v", len(got), res.InstanceResponses)
	}
	for _, id := range []string{schedWorkdays, schedOffice} {
		if ir := got[id]; ir.Outcome != result.Started || ir.ScheduledAt != "2027-02-20T08:00:00+08:00" {
			t.Errorf("%s: %+v", id, ir)
		}
	}
	if ir := got[schedRunning]; ir.Outcome != result.AlreadyRunning || ir.ScheduledAt == "" {
		t.Errorf("running: %+v", ir)
	}
	if ir := got[schedInvalid]; ir.Outcome != result.Rejected || ir.Code != result.CodeInvalidSchedule || !strings.Contains(ir.Message, `"8am"`) || ir.ScheduledAt != "" {
		t.Errorf("invalid: %+v", ir)
	}
	if s := res.Summary; s.Scheduled != 6 || s.Due != 3 || s.Started != 2 || s.AlreadyRunning != 1 || s.Rejected != 1 || s.Requested != 4 || s.Ignored != 0 {
		t.Errorf("summary %+v", s)
	}
	if !strings.Contains(logs.String(), `"scheduledAt":"2027-02-20T08:00:00+08:00"`) || !strings.Contains(logs.String(), `"due":3`) {
		t.Errorf("log lines without scheduledAt or due:\n%s", logs)
	}

	// The same tick again (a retry, a redelivery): nothing new.
	res = runPayload(t, h, timerTick("2027-02-20T00:00:00Z", tick))
	if n := len(ecs.Calls()); n != 1 {
		t.Fatalf("%d StartInstances calls after the tick was sent again, want still 1", n)
	}
	if s := res.Summary; s.AlreadyRunning != 3 || s.Started != 0 {
		t.Errorf("again: %+v", s)
	}

	// A holiday Monday: no schedule is due, the request is not Ignored.
	fl.Set(schedWorkdays, "Stopped")
	fl.Set(schedOffice, "Stopped")
	fl.Set(schedRunning, "Stopped")
	res = runPayload(t, h, timerTick("2027-02-22T00:00:00Z", tick))
	if n := len(ecs.Calls()); n != 1 {
		t.Fatalf("a holiday started something: %+v", ecs.Calls())
	}
	if s := res.Summary; s.Due != 0 || s.Scheduled != 6 || s.Rejected != 1 || s.Ignored != 0 {
		t.Errorf("holiday: %+v %+v", s, res.Ignored)
	}
}

// DESIGN §3.2: wait and dryRun apply to the due instances; a dry run sends
// a dry-run StartInstances and says DryRunPassed, the result DryRun.
func TestScheduleTickDryRun(t *testing.T) {
	fl := scheduleFleet()
	ecs := fl.ECS()
	h, _ := testHandler(t, scheduleEnv(), ecs)
	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"dryRun":true}`))
	if !res.DryRun || res.Summary.DryRunPassed != 2 || res.Summary.Started != 0 {
		t.Fatalf("%+v", res.Summary)
	}
	for _, c := range ecs.Calls() {
		if !c.DryRun {
			t.Fatalf("a real start in a dry run: %+v", c)
		}
	}
	if fl.Status[schedWorkdays] != "Stopped" {
		t.Fatal("a dry run started an instance")
	}
	// Nothing due, dry run: still a dry run.
	res = runPayload(t, h, timerTick("2027-02-22T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"dryRun":true}`))
	if !res.DryRun {
		t.Fatalf("a dry-run tick with nothing due is not said to be one: %+v", res)
	}
}

// DESIGN §9: a schedule whose key no instance of the scope carries is an
// operator mistake from a timer (ERROR, mistake true, Summary.Mistakes), as
// a tag selection in a timer that finds nothing; over HTTP it is only
// Ignored.
func TestScheduleKeyNobodyCarriesIsAMistake(t *testing.T) {
	ecs := scheduleFleet().ECS()
	h, logs := testHandler(t, scheduleEnv(), ecs)
	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"tagKey":"no-one-has-it","every":"5m"}}`))
	if res.Summary.Mistakes != 1 || len(res.Ignored) != 1 || !strings.Contains(res.Ignored[0].Reason, `"no-one-has-it"`) {
		t.Fatalf("%+v %+v", res.Summary, res.Ignored)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), `"mistake":true`) {
		t.Fatalf("no ERROR mistake line:\n%s", logs)
	}
	// A target's key: the same.
	res = runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"schedule":{"tagKey":"no-one-has-it","every":"5m"},"targets":[{"regionId":"cn-hangzhou"},{"regionId":"cn-beijing"}]}`))
	if res.Summary.Mistakes != 2 {
		t.Fatalf("targets: %+v %+v", res.Summary, res.Ignored)
	}
	inv := testInvocation(h)
	res = h.run(context.Background(), inv, []events.Message{{Trigger: events.HTTP, Source: "http", Request: events.StartRequest{RegionID: "cn-hangzhou",
		Schedule: &events.ScheduleSpec{TagKey: "no-one-has-it", TagKeySet: true, Every: "5m", EveryField: "schedule.every"}}}}, time.Time{})
	if res.Summary.Mistakes != 0 || len(res.Ignored) != 1 {
		t.Fatalf("HTTP: %+v %+v", res.Summary, res.Ignored)
	}
}

// DESIGN §3.2: a preview starts nothing and lists, for every instance
// carrying the key, its next start times (make-up days and skip dates
// applied), and each invalid value with why.
func TestSchedulePreviewStartsNothing(t *testing.T) {
	ecs := scheduleFleet().ECS()
	h, _ := testHandler(t, scheduleEnv(), ecs)
	// Friday 2027-02-19 12:00 Shanghai, for 7 days.
	res := runPayload(t, h, timerTick("2027-02-19T04:00:00Z", `{"regionId":"cn-hangzhou","schedule":{},"preview":"7d"}`))
	if n := len(ecs.Calls()); n != 0 {
		t.Fatalf("a preview sent %d StartInstances", n)
	}
	if res.Preview == nil || len(res.Preview.Instances) != 6 || len(res.InstanceResponses.InstanceResponse) != 0 {
		t.Fatalf("%+v", res)
	}
	by := map[string]result.PreviewInstance{}
	for _, pi := range res.Preview.Instances {
		by[pi.InstanceID] = pi
	}
	// Saturday 20 (make-up), Tuesday 23 to Friday 26; not Monday 22 (holiday).
	want := []string{"2027-02-20T08:00:00+08:00", "2027-02-23T08:00:00+08:00", "2027-02-24T08:00:00+08:00", "2027-02-25T08:00:00+08:00", "2027-02-26T08:00:00+08:00"}
	for _, id := range []string{schedWorkdays, schedOffice} {
		if !slices.Equal(by[id].Starts, want) {
			t.Errorf("%s: %v, want %v", id, by[id].Starts, want)
		}
	}
	if pi := by[schedInvalid]; pi.Code != result.CodeInvalidSchedule || pi.Message == "" {
		t.Errorf("invalid: %+v", pi)
	}
	if pi := by[schedOff]; len(pi.Starts) != 0 {
		t.Errorf("off: %+v", pi)
	}
	if res.Preview.From != "2027-02-19T04:00:00Z" || res.Preview.Period != "7d" {
		t.Errorf("%+v", res.Preview)
	}
}

// DESIGN §3.2: only the due instances count toward MAX_INSTANCES, and the
// lookup reads at most ⌈MAX_SCHEDULED / 100⌉ + 2 pages: an ECS that keeps
// answering is TooManyPages, nothing sent, the invocation unfinished.
func TestScheduleLookupBounds(t *testing.T) {
	env := scheduleEnv()
	env["MAX_INSTANCES"] = "2"
	fl := scheduleFleet()
	ecs := fl.ECS()
	h, _ := testHandler(t, env, ecs)
	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
	// 6 carry the key, 3 due: over MAX_INSTANCES 2, refused whole.
	if res.Summary.Started != 0 || len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeTooManyInstances {
		t.Fatalf("%+v %+v", res.Summary, res.Ignored)
	}
	env["MAX_INSTANCES"] = "3"
	h, _ = testHandler(t, env, ecs)
	res = runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
	if res.Summary.Started != 2 {
		t.Fatalf("3 due under MAX_INSTANCES 3: %+v %+v", res.Summary, res.Ignored)
	}

	env["MAX_SCHEDULED"] = "150"
	pages := 0
	endless := &ecsapitest.ECS{ByTags: func(ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
		pages++
		return &ecsapi.DescribeInstancesOutput{RequestID: "req-page", NextToken: "t" + strings.Repeat("x", pages)}, nil
	}}
	h, _ = testHandler(t, env, endless)
	res = runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
	if pages != 4 || len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeTooManyPages || !res.Unfinished() {
		t.Fatalf("%d pages, %+v", pages, res.Ignored)
	}
	if !strings.Contains(res.Ignored[0].Reason, "MAX_SCHEDULED") {
		t.Errorf("reason: %s", res.Ignored[0].Reason)
	}
}

// DESIGN §3.2, §9: an instance Rejected only for InvalidSchedule is a
// problem to notify in the one tick whose window holds 00:00 UTC.
func TestScheduleMidnightTick(t *testing.T) {
	ecs := scheduleFleet().ECS()
	h, _ := testHandler(t, scheduleEnv(), ecs)
	for tt, want := range map[string]bool{"2027-02-21T00:00:00Z": true, "2027-02-21T00:04:59Z": true, "2027-02-21T00:05:00Z": false, "2027-02-20T23:59:00Z": false} {
		res := runPayload(t, h, timerTick(tt, `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
		if res.MidnightTick != want || res.Summary.Rejected != 1 {
			t.Errorf("%s: midnight %v, want %v (%+v)", tt, res.MidnightTick, want, res.Summary)
		}
	}
}

// DESIGN §3.2: ALLOWED_TAG and the allow-lists are judged on what the
// schedule's lookup found, with no other lookup.
func TestScheduleAllowListsOnTheLookup(t *testing.T) {
	env := scheduleEnv()
	env["ALLOWED_TAG"] = "team=a"
	fl := scheduleFleet()
	fl.Tags[schedOffice]["team"] = "a"
	ecs := fl.ECS()
	h, _ := testHandler(t, env, ecs)
	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
	got := byID(res)
	if got[schedOffice].Outcome != result.Started || got[schedWorkdays].Outcome != result.Rejected || got[schedWorkdays].Code != result.CodeNotAllowed {
		t.Fatalf("%+v", got)
	}
	if ecs.Describes != 1 {
		t.Errorf("%d DescribeInstances, want the schedule's one", ecs.Describes)
	}
}

// DESIGN §9 through the notify glue: with NOTIFY_ON=problems, a tick whose
// only problem is an instance Rejected for InvalidSchedule tells the group
// in the tick whose window holds 00:00 UTC, and in no other; a tick with a
// mistake (a key nobody carries) tells it whenever it comes.
func TestScheduleInvalidValueIsToldOnceADay(t *testing.T) {
	robots := robotemu.New(robotemu.Options{Open: true})
	robots.Start()
	defer robots.Close()
	fl := ecsapitest.NewFleet(map[string]string{schedInvalid: "Stopped"})
	fl.Tags[schedInvalid] = map[string]string{"start-schedule": "8am"}
	env := scheduleEnv()
	env["NOTIFY_URLS"] = "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t")
	h, _ := testHandler(t, env, fl.ECS())
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "r", Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
	for _, tc := range []struct {
		at, payload string
		told        bool
	}{
		{"2027-02-21T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`, true},
		{"2027-02-21T00:05:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`, false},
		{"2027-02-21T12:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`, false},
		{"2027-02-21T12:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"tagKey":"typo","every":"5m"}}`, true},
	} {
		before := len(robots.Messages())
		tt, _ := time.Parse(time.RFC3339, tc.at)
		h.now = func() time.Time { return tt.Add(20 * time.Second) }
		if _, err := h.Handle(ctx, timerTick(tc.at, tc.payload)); err != nil {
			t.Fatal(err)
		}
		if told := len(robots.Messages()) > before; told != tc.told {
			t.Errorf("%s %s: told %v, want %v", tc.at, tc.payload, told, tc.told)
		}
	}
}

// DESIGN §3.2, §5 (nothing is silently dropped): a schedule lookup that
// finds more than MAX_SCHEDULED instances carrying the key starts nothing,
// but the instances due in that tick are not lost in silence: the Ignored
// entry (TooManyInstances) names them (the first few and their count) and
// the Summary counts Scheduled and Due, as when the due instances pass
// MAX_INSTANCES.
func TestScheduleOverMaxScheduledNamesTheDue(t *testing.T) {
	env := scheduleEnv()
	env["MAX_SCHEDULED"] = "5" // 6 carry the key
	ecs := scheduleFleet().ECS()
	h, _ := testHandler(t, env, ecs)
	res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`))
	if n := len(ecs.Calls()); n != 0 || len(res.Ignored) != 1 {
		t.Fatalf("%d calls, %+v", n, res.Ignored)
	}
	ig := res.Ignored[0]
	ids := slices.Clone(ig.InstanceIDs)
	slices.Sort(ids)
	if want := []string{schedWorkdays, schedOffice, schedRunning}; ig.Code != result.CodeTooManyInstances || !slices.Equal(ids, want) ||
		!strings.Contains(ig.Reason, "MAX_SCHEDULED (5)") || !strings.Contains(ig.Reason, "3 of them due") {
		t.Errorf("the due instances are not named: %+v", ig)
	}
	if s := res.Summary; s.Scheduled != 6 || s.Due != 3 || s.Ignored != 1 || s.Started != 0 {
		t.Errorf("summary %+v", s)
	}
}

// DESIGN §3.2: the Summary counts the instances carrying the key
// (Scheduled) and those due (Due): an instance that two schedule requests
// of one invocation find — a timer payload that is an array, two targets
// of one scope, a batch of messages — is one instance, counted once, as it
// is reported once.
func TestScheduleSummaryCountsEachInstanceOnce(t *testing.T) {
	for _, payload := range []string{
		`[{"regionId":"cn-hangzhou","schedule":{"every":"5m"}},{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}]`,
		`{"schedule":{"every":"5m"},"targets":[{"regionId":"cn-hangzhou"},{"regionId":"cn-hangzhou","dryRun":true}]}`,
		`[{"regionId":"cn-hangzhou","schedule":{"every":"5m"}},{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"dryRun":true}]`,
	} {
		fl := scheduleFleet()
		h, _ := testHandler(t, scheduleEnv(), fl.ECS())
		res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", payload))
		if s := res.Summary; s.Scheduled != 6 || s.Due != 3 || s.Started != 2 || s.AlreadyRunning != 1 || s.Rejected != 1 {
			t.Errorf("%s: summary %+v, want Scheduled 6, Due 3 as for one request", payload, s)
		}
	}
}

// DESIGN §3.2, §6 (DRY_RUN_ONLY: "the result says so"): a preview asked
// as a dry run, or under DRY_RUN_ONLY, is answered as a dry run
// (Result.DryRun), as a dry tick with nothing due is.
func TestSchedulePreviewDryRunIsSaid(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		payload string
		dry     bool
	}{
		{nil, `{"regionId":"cn-hangzhou","schedule":{},"preview":"1d","dryRun":true}`, true},
		{map[string]string{"DRY_RUN_ONLY": "true"}, `{"regionId":"cn-hangzhou","schedule":{},"preview":"1d"}`, true},
		{nil, `{"schedule":{},"preview":"1d","dryRun":true,"targets":[{"regionId":"cn-hangzhou"}]}`, true},
		{nil, `{"regionId":"cn-hangzhou","schedule":{},"preview":"1d"}`, false},
	} {
		env := scheduleEnv()
		for k, v := range tc.env {
			env[k] = v
		}
		ecs := scheduleFleet().ECS()
		h, _ := testHandler(t, env, ecs)
		res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", tc.payload))
		if res.Preview == nil || res.DryRun != tc.dry || len(ecs.Calls()) != 0 {
			t.Errorf("%v %s: DryRun %v, want %v (%d calls)", tc.env, tc.payload, res.DryRun, tc.dry, len(ecs.Calls()))
		}
	}
}

// DESIGN §3.2: skip dates hold for every schedule — no scheduled start on a
// skip date. A request's skipDates that holds a make-up day of WORK_DATES,
// or a request's workDates that SKIP_DATES skips, is not a broken request:
// the skip date wins for that tick (and its preview), and the other dates
// of the calendar still hold. Before, the whole tick was refused
// ("schedule: … is both a skip date and a make-up working day").
func TestScheduleSkipDateWinsOverAMakeUpDayOfAnotherList(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		payload string
	}{
		{map[string]string{"WORK_DATES": "2027-02-20,2027-02-27"}, `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"skipDates":["2027-02-20"]}`},
		{map[string]string{"SKIP_DATES": "2027-02-20"}, `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"workDates":["2027-02-20","2027-02-27"]}`},
	} {
		env := scheduleEnv()
		delete(env, "WORK_DATES")
		delete(env, "SKIP_DATES")
		for k, v := range tc.env {
			env[k] = v
		}
		fl := scheduleFleet()
		ecs := fl.ECS()
		h, _ := testHandler(t, env, ecs)
		// Saturday 2027-02-20 08:00 Shanghai: skipped.
		res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", tc.payload))
		if len(res.Ignored) != 0 || res.Summary.Scheduled != 6 || res.Summary.Due != 0 || len(ecs.Calls()) != 0 {
			t.Errorf("%v %s on the skip date: %+v %+v", tc.env, tc.payload, res.Summary, res.Ignored)
		}
		// Saturday 2027-02-27: still a make-up day for workdays.
		res = runPayload(t, h, timerTick("2027-02-27T00:00:00Z", tc.payload))
		if got := startedIDs(ecs); !slices.Equal(got, []string{schedWorkdays, schedOffice}) {
			t.Errorf("%v %s on the other make-up day: started %v, %+v %+v", tc.env, tc.payload, got, res.Summary, res.Ignored)
		}
	}
}

// DESIGN §3.1 ("nothing … is accepted and then ignored") and §3.2
// (workDates are make-up days of workdays schedules): workDates stands
// only beside schedule, or beside targets whose schedules inherit it; on a
// request with instanceIds, tags or a sequence it is refused, naming the
// field, rather than accepted and silently without effect.
func TestWorkDatesStandOnlyBesideSchedule(t *testing.T) {
	for _, tc := range []struct {
		payload, field string
	}{
		{`{"regionId":"cn-hangzhou","instanceIds":["i-schedtest0001"],"workDates":["2027-02-20"]}`, "workDates"},
		{`{"regionId":"cn-hangzhou","tags":[{"key":"env"}],"workDates":["2027-02-20"]}`, "workDates"},
		{`{"regionId":"cn-hangzhou","workDates":["2027-02-20"],"sequence":[{"instanceIds":["i-schedtest0001"]},{"instanceIds":["i-schedtest0002"]}]}`, "workDates"},
		{`{"workDates":["2027-02-20"],"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-schedtest0001"]}]}`, "targets[0].workDates"},
		{`{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"workDates":["2027-02-20"]}`, ""},
		{`{"schedule":{"every":"5m"},"workDates":["2027-02-20"],"targets":[{"regionId":"cn-hangzhou"}]}`, ""},
	} {
		fl := scheduleFleet()
		h, _ := testHandler(t, scheduleEnv(), fl.RunningOnceLookedAt())
		res := runPayload(t, h, timerTick("2027-02-20T00:00:00Z", tc.payload))
		refused := ""
		for _, ir := range res.InstanceResponses.InstanceResponse {
			if ir.Code == result.CodeInvalidParameter {
				refused = ir.Message
			}
		}
		for _, ig := range res.Ignored {
			if ig.Code == result.CodeInvalidParameter {
				refused = ig.Reason
			}
		}
		switch {
		case tc.field == "" && refused != "":
			t.Errorf("%s refused: %s", tc.payload, refused)
		case tc.field != "" && !strings.Contains(refused, tc.field+": stands only beside schedule"):
			t.Errorf("%s: not refused naming %s: %q %+v", tc.payload, tc.field, refused, res.Summary)
		}
	}
}

// DESIGN §3.2 (preview: what the week will bring): an instance whose value
// is off — written `off`, or a SCHEDULES name defined as off — is listed
// with why it has no start (a Message, no Code: it is no mistake), so that
// it is told apart from a schedule with no start in the period.
func TestSchedulePreviewSaysWhyOffHasNoStart(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{schedOff: "Stopped", schedOffice: "Stopped", schedWeekend: "Stopped"})
	fl.Tags[schedOff] = map[string]string{"start-schedule": "OFF"}
	fl.Tags[schedOffice] = map[string]string{"start-schedule": "holiday"}
	fl.Tags[schedWeekend] = map[string]string{"start-schedule": "09:00 SAT,SUN Asia/Shanghai"}
	env := scheduleEnv()
	env["SCHEDULES"] = `{"holiday":"off"}`
	h, _ := testHandler(t, env, fl.ECS())
	// Monday 2027-02-22 04:00 UTC, one day: no weekend start in it.
	res := runPayload(t, h, timerTick("2027-02-22T04:00:00Z", `{"regionId":"cn-hangzhou","schedule":{},"preview":"1d"}`))
	if res.Preview == nil {
		t.Fatalf("%+v", res)
	}
	for _, pi := range res.Preview.Instances {
		switch pi.InstanceID {
		case schedOff, schedOffice:
			if len(pi.Starts) != 0 || pi.Code != "" || !strings.Contains(pi.Message, "off") {
				t.Errorf("%s (%q): no why: %+v", pi.InstanceID, pi.Schedule, pi)
			}
		case schedWeekend:
			if len(pi.Starts) != 0 || pi.Code != "" || pi.Message != "" {
				t.Errorf("weekend: %+v", pi)
			}
		}
	}
}

// DESIGN §3.2 through a real tick (timer event, lookup, StartInstances):
// the window (T − every, T] holds a start time at T and not one at
// T − every, for every of 1m, 5m and 24h; a tick late by more than every
// covers its own window only; across New York's daylight-saving changes
// 02:30 on the spring-forward day starts at 03:00 EDT (the first minute
// after the gap) and 01:30 on the fall-back day once, at its first
// occurrence (EDT); a value's zone and words are read in any case and
// spacing. Skip dates are judged in the schedule's own zone (not the
// request's), hold for every schedule (daily and SAT too), and make-up
// days add to workdays only, from WORK_DATES or the request's workDates.
func TestScheduleTickWindowsZonesAndCalendar(t *testing.T) {
	for _, tc := range []struct {
		name, value, at, req string
		env                  map[string]string
		want                 string // ScheduledAt, "" when not due
	}{
		{"at T", "08:00 daily Asia/Shanghai", "2027-02-20T00:00:00Z", `"every":"5m"`, nil, "2027-02-20T08:00:00+08:00"},
		{"at T-every", "08:00 daily Asia/Shanghai", "2027-02-20T00:05:00Z", `"every":"5m"`, nil, ""},
		{"1m at T", "08:00 daily Asia/Shanghai", "2027-02-20T00:00:00Z", `"every":"1m"`, nil, "2027-02-20T08:00:00+08:00"},
		{"1m at T-every", "08:00 daily Asia/Shanghai", "2027-02-20T00:01:00Z", `"every":"1m"`, nil, ""},
		{"24h at T-every", "08:00 daily Asia/Shanghai", "2027-02-21T00:00:00Z", `"every":"24h"`, nil, "2027-02-21T08:00:00+08:00"},
		{"24h inside", "08:00 daily Asia/Shanghai", "2027-02-20T23:59:00Z", `"every":"24h"`, nil, "2027-02-20T08:00:00+08:00"},
		{"spring forward 03:00", "02:30 daily America/New_York", "2027-03-14T07:00:00Z", `"every":"5m"`, nil, "2027-03-14T03:00:00-04:00"},
		{"spring forward not later", "02:30 daily America/New_York", "2027-03-14T07:30:00Z", `"every":"5m"`, nil, ""},
		{"fall back first", "01:30 daily America/New_York", "2027-11-07T05:30:00Z", `"every":"5m"`, nil, "2027-11-07T01:30:00-04:00"},
		{"fall back not twice", "01:30 daily America/New_York", "2027-11-07T06:30:00Z", `"every":"5m"`, nil, ""},
		{"case and spacing", "  08:00  WORKDAYS  asia/shanghai ", "2027-02-19T00:00:00Z", `"every":"5m"`, nil, "2027-02-19T08:00:00+08:00"},
		{"skip in the schedule's zone", "07:00 daily Asia/Shanghai", "2027-02-23T23:00:00Z", `"every":"5m"`, map[string]string{"SKIP_DATES": "2027-02-24", "TIME_ZONE": "UTC"}, ""},
		{"not the request zone's date", "07:00 daily Asia/Shanghai", "2027-02-23T23:00:00Z", `"every":"5m"`, map[string]string{"SKIP_DATES": "2027-02-23", "TIME_ZONE": "UTC"}, "2027-02-24T07:00:00+08:00"},
		{"daily on a skip date", "09:00 daily Asia/Shanghai", "2027-02-20T01:00:00Z", `"every":"5m"`, map[string]string{"SKIP_DATES": "2027-02-20"}, ""},
		{"SAT on a make-up Saturday", "09:00 SAT Asia/Shanghai", "2027-02-20T01:00:00Z", `"every":"5m"`, map[string]string{"WORK_DATES": "2027-02-20"}, "2027-02-20T09:00:00+08:00"},
		{"MON-FRI not on a make-up Saturday", "09:00 MON-FRI Asia/Shanghai", "2027-02-20T01:00:00Z", `"every":"5m"`, map[string]string{"WORK_DATES": "2027-02-20"}, ""},
		{"workdays on a request's make-up day", "09:00 workdays Asia/Shanghai", "2027-02-20T01:00:00Z", `"every":"5m"`, nil, "2027-02-20T09:00:00+08:00"},
	} {
		fl := ecsapitest.NewFleet(map[string]string{schedWorkdays: "Stopped"})
		fl.Tags[schedWorkdays] = map[string]string{"start-schedule": tc.value}
		ecs := fl.ECS()
		env := map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_EVENT_AGE": "0"}
		for k, v := range tc.env {
			env[k] = v
		}
		h, _ := testHandler(t, env, ecs)
		req := `{"regionId":"cn-hangzhou","schedule":{` + tc.req + `}}`
		if strings.Contains(tc.name, "request's make-up day") {
			req = `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"workDates":["2027-02-20"]}`
		}
		res := runPayload(t, h, timerTick(tc.at, req))
		got := byID(res)[schedWorkdays]
		if got.ScheduledAt != tc.want || (tc.want != "") != (len(ecs.Calls()) == 1) || len(res.Ignored) != 0 {
			t.Errorf("%s: %q at %s: ScheduledAt %q, want %q (%d calls) %+v", tc.name, tc.value, tc.at, got.ScheduledAt, tc.want, len(ecs.Calls()), res.Ignored)
		}
	}
	// A tick handled two hours late covers its own window, not the one of
	// its handling.
	fl := ecsapitest.NewFleet(map[string]string{schedWorkdays: "Stopped", schedOffice: "Stopped"})
	fl.Tags[schedWorkdays] = map[string]string{"start-schedule": "08:00 daily Asia/Shanghai"}
	fl.Tags[schedOffice] = map[string]string{"start-schedule": "10:00 daily Asia/Shanghai"}
	ecs := fl.ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_EVENT_AGE": "0"}, ecs)
	h.now = func() time.Time { return time.Date(2027, 2, 20, 2, 0, 0, 0, time.UTC) }
	inv := testInvocation(h)
	h.run(context.Background(), inv, events.Decode(timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`)), time.Time{})
	if got := startedIDs(ecs); !slices.Equal(got, []string{schedWorkdays}) {
		t.Errorf("the late tick started %v, want only its own window's %s", got, schedWorkdays)
	}
}

// DESIGN §3.1, §3.2, §5: the same instance due by a schedule tick and
// named by an instanceIds request of the same batch of messages is started
// by one call and reported once, with ScheduledAt, in either order; a real
// start wins over the other message's dry run.
func TestScheduleAndInstanceIDsInOneBatchReportOnce(t *testing.T) {
	tick := func(src string) events.Message {
		return events.Message{Trigger: events.MNS, Source: src, Request: events.StartRequest{RegionID: "cn-hangzhou",
			Schedule: &events.ScheduleSpec{Every: "5m", EveryField: "schedule.every"}}}
	}
	named := func(src string, dry bool) events.Message {
		return events.Message{Trigger: events.MNS, Source: src, Request: events.StartRequest{RegionID: "cn-hangzhou", DryRun: dry, InstanceIDs: []string{schedWorkdays}}}
	}
	for _, batch := range [][]events.Message{
		{tick("m1"), named("m2", false)},
		{named("m2", false), tick("m1")},
		{named("m2", true), tick("m1")},
	} {
		fl := scheduleFleet()
		ecs := fl.ECS()
		h, _ := testHandler(t, scheduleEnv(), ecs)
		tt, _ := time.Parse(time.RFC3339, "2027-02-20T00:00:00Z")
		h.now = func() time.Time { return tt.Add(20 * time.Second) }
		res := h.run(context.Background(), testInvocation(h), batch, time.Time{})
		n := 0
		for _, ir := range res.InstanceResponses.InstanceResponse {
			if ir.InstanceID == schedWorkdays {
				n++
				if ir.Outcome != result.Started || ir.ScheduledAt != "2027-02-20T08:00:00+08:00" {
					t.Errorf("%+v", ir)
				}
			}
		}
		if got := startedIDs(ecs); n != 1 || !slices.Equal(got, []string{schedWorkdays, schedOffice}) {
			t.Errorf("reported %d times, calls for %v", n, got)
		}
	}
}

// DESIGN §5 (PreviousStatus, CurrentStatus) with §3.2 ("due instances are
// started as a tag selection's are (allow-lists, …)"): an instance that a
// schedule tick or a tag selection found, then Rejected by
// ALLOWED_INSTANCE_IDS or ALLOWED_REGIONS, is reported with the status the
// lookup saw, as every other instance the lookup found is — never empty.
func TestRejectedByPolicyKeepsTheStatusTheLookupSaw(t *testing.T) {
	tick := timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`)
	tags := timerTick("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","tags":[{"key":"start-schedule","value":"08:00 daily Asia/Shanghai"}]}`)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		payload []byte
		denied  []string
	}{
		{"schedule, ALLOWED_INSTANCE_IDS", map[string]string{"ALLOWED_INSTANCE_IDS": schedOffice}, tick, []string{schedWorkdays, schedRunning}},
		{"schedule, ALLOWED_REGIONS", map[string]string{"ALLOWED_REGIONS": "cn-beijing"}, tick, []string{schedWorkdays, schedOffice, schedRunning}},
		{"tags, ALLOWED_INSTANCE_IDS", map[string]string{"ALLOWED_INSTANCE_IDS": schedOffice}, tags, []string{schedRunning}},
		{"tags, ALLOWED_REGIONS", map[string]string{"ALLOWED_REGIONS": "cn-beijing"}, tags, []string{schedRunning}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := scheduleFleet()
			env := scheduleEnv()
			for k, v := range tc.env {
				env[k] = v
			}
			h, _ := testHandler(t, env, fl.ECS())
			h.now = func() time.Time { return time.Date(2027, 2, 20, 0, 0, 20, 0, time.UTC) }
			out, err := h.Handle(invContext(context.Background(), "req-policy"), tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			var res result.Result
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			got := byID(&res)
			for _, id := range tc.denied {
				ir, ok := got[id]
				want := fl.Status[id]
				if !ok || ir.Outcome != result.Rejected || ir.Code != result.CodeNotAllowed ||
					ir.PreviousStatus != want || ir.CurrentStatus != want {
					t.Errorf("%s: %+v, want Rejected %s with PreviousStatus and CurrentStatus %s", id, ir, result.CodeNotAllowed, want)
				}
			}
		})
	}
}
