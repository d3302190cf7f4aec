package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// The sample fleet's scheduled instances (testdata/fleet.json, docs/local.md).
const (
	schedWorkdays = "i-bpsched00000001" // 08:00 workdays Asia/Shanghai
	schedOffice   = "i-bpsched00000002" // office
	schedRunning  = "i-bpsched00000003" // 07:30,13:00 MON-FRI, Running
	schedOff      = "i-bpsched00000004" // off
	schedInvalid  = "i-bpsched00000005" // 8am
	schedBeijing  = "i-2zesched0000001" // 09:00 SAT,SUN Asia/Shanghai
	schedAccountB = "i-uf6schedb00001"  // office, account B, cn-shanghai
)

// scheduleEnv is the sample environment with a holiday calendar in which
// Saturday 2027-02-20 is a make-up working day and Monday 2027-02-22 a
// holiday, and office a name of SCHEDULES.
func scheduleEnv() map[string]string {
	env := map[string]string{"WORK_DATES": "2027-02-20", "SKIP_DATES": "2027-02-22", "SCHEDULES": `{"office":"08:00 workdays Asia/Shanghai"}`}
	for k, v := range sampleEnv {
		env[k] = v
	}
	return env
}

// tickAt is the schedule-tick timer's event fired at triggerTime.
func tickAt(triggerTime, request string) []byte {
	return mustJSON(map[string]any{"triggerTime": triggerTime, "triggerName": "schedule-tick", "payload": request})
}

// startedBy are the instances real StartInstances calls named since the
// last reset, sorted; dry are those of dry-run calls.
func startedBy(h *harness.Harness) (started, dry []string) {
	for _, c := range h.ECS.Calls() {
		if c.Action != "StartInstances" {
			continue
		}
		if c.DryRun {
			dry = append(dry, c.InstanceIDs...)
		} else {
			started = append(started, c.InstanceIDs...)
		}
	}
	slices.Sort(started)
	slices.Sort(dry)
	return started, dry
}

// stopAll sets the fleet's scheduled instances back to how the sample has them.
func stopAll(t *testing.T, h *harness.Harness) {
	t.Helper()
	for _, in := range fleet(t).Instances {
		if _, ok := in.Tags["start-schedule"]; ok {
			if err := h.ECS.SetInstance(in); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.ECS.ResetCalls()
}

// DESIGN §3.2 through the binary, timer carrier: a make-up Saturday 08:00
// Asia/Shanghai starts exactly the instances tagged "08:00 workdays
// Asia/Shanghai" and "office" (SCHEDULES), each with ScheduledAt and its
// log line's scheduledAt, the invalid value Rejected InvalidSchedule, the
// not-due unlisted, Summary Scheduled and Due; the same triggerTime again
// starts nothing new (AlreadyRunning); the holiday Monday starts none of
// them and is not Ignored whole; the next Tuesday starts them again.
func TestScheduleTicksOnTheCalendar(t *testing.T) {
	t.Parallel()
	h := start(t, scheduleEnv(), ecsemu.Options{})
	const tick = `{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`

	out := invoke(t, h, tickAt("2027-02-20T00:00:00Z", tick))
	r := result(t, out)
	if started, _ := startedBy(h); !slices.Equal(started, []string{schedWorkdays, schedOffice}) {
		t.Fatalf("make-up Saturday started %v, want %s and %s", started, schedWorkdays, schedOffice)
	}
	got := outcomes(r)
	for _, id := range []string{schedWorkdays, schedOffice} {
		if ir := got[id]; ir.Outcome != hresult.Started || ir.ScheduledAt != "2027-02-20T08:00:00+08:00" {
			t.Errorf("%s: %+v", id, ir)
		}
	}
	if ir := got[schedInvalid]; ir.Outcome != hresult.Rejected || ir.Code != hresult.CodeInvalidSchedule || !strings.Contains(ir.Message, `"8am"`) {
		t.Errorf("the invalid value: %+v", ir)
	}
	for _, id := range []string{schedRunning, schedOff} {
		if _, listed := got[id]; listed {
			t.Errorf("%s is not due and is listed", id)
		}
	}
	if s := r.Summary; s.Scheduled != 5 || s.Due != 2 || s.Started != 2 || s.Rejected != 1 || s.Requested != 3 || s.Ignored != 0 {
		t.Errorf("summary %+v", s)
	}
	at := 0
	for _, l := range out.LogsOf("instance") {
		if l["scheduledAt"] == "2027-02-20T08:00:00+08:00" {
			at++
		}
	}
	if at != 2 {
		t.Errorf("%d instance lines carry scheduledAt, want 2: %v", at, out.LogsOf("instance"))
	}

	h.ECS.ResetCalls()
	r = result(t, invoke(t, h, tickAt("2027-02-20T00:00:00Z", tick)))
	if started, _ := startedBy(h); len(started) != 0 || r.Summary.AlreadyRunning != 2 {
		t.Errorf("the tick sent again started %v: %+v", started, r.Summary)
	}

	stopAll(t, h)
	r = result(t, invoke(t, h, tickAt("2027-02-22T00:00:00Z", tick)))
	if started, _ := startedBy(h); len(started) != 0 || r.Summary.Due != 0 || len(r.Ignored) != 0 {
		t.Errorf("the holiday Monday started %v: %+v %+v", started, r.Summary, r.Ignored)
	}
	r = result(t, invoke(t, h, tickAt("2027-02-23T00:00:00Z", tick)))
	if started, _ := startedBy(h); !slices.Equal(started, []string{schedWorkdays, schedOffice}) {
		t.Errorf("Tuesday started %v", started)
	}
}

// DESIGN §3.2: a preview of that week lists the same moments — Saturday's
// make-up day, not the holiday Monday — and starts nothing; timer and HTTP.
func TestSchedulePreviewOfTheWeek(t *testing.T) {
	t.Parallel()
	h := start(t, scheduleEnv(), ecsemu.Options{})
	r := result(t, invoke(t, h, tickAt("2027-02-19T12:00:00Z", `{"regionId":"cn-hangzhou","schedule":{},"preview":"7d"}`)))
	if started, dry := startedBy(h); len(started)+len(dry) != 0 || r.Preview == nil {
		t.Fatalf("preview: started %v %v, answer %+v", started, dry, r)
	}
	want := []string{"2027-02-20T08:00:00+08:00", "2027-02-23T08:00:00+08:00", "2027-02-24T08:00:00+08:00", "2027-02-25T08:00:00+08:00", "2027-02-26T08:00:00+08:00"}
	by := map[string]hresult.PreviewInstance{}
	for _, pi := range r.Preview.Instances {
		by[pi.InstanceID] = pi
	}
	if len(by) != 5 || !slices.Equal(by[schedWorkdays].Starts, want) || !slices.Equal(by[schedOffice].Starts, want) || by[schedInvalid].Code != hresult.CodeInvalidSchedule {
		t.Errorf("preview %+v", r.Preview)
	}

	a := httpResult(t, invoke(t, h, httpEvent(`{"regionId":"cn-hangzhou","schedule":{},"preview":"31d"}`, bearer(), nil)))
	if a.StatusCode != http.StatusOK || a.Result.Preview == nil || len(a.Result.Preview.Instances) != 5 {
		t.Fatalf("HTTP preview: %d %s", a.StatusCode, a.Body)
	}
	if started, dry := startedBy(h); len(started)+len(dry) != 0 {
		t.Errorf("an HTTP preview started %v %v", started, dry)
	}
}

// DESIGN §3.2 with targets across two accounts (roleArn), dryRun, a key
// nobody carries (an operator mistake, §9) and an invalid value.
func TestScheduleTargetsMistakesAndDryRun(t *testing.T) {
	t.Parallel()
	h := startWith(t, twoAccounts(t), scheduleEnv(), ecsemu.Options{})
	both := `{"schedule":{"every":"5m"},"targets":[{"regionId":"cn-hangzhou"},{"regionId":"cn-shanghai","roleArn":"` + roleB + `"}]}`
	r := result(t, invoke(t, h, tickAt("2027-02-20T00:00:00Z", both)))
	if started, _ := startedBy(h); !slices.Equal(started, []string{schedWorkdays, schedOffice, schedAccountB}) {
		t.Fatalf("two accounts: started %v", started)
	}
	if ir := outcomes(r)[schedAccountB]; ir.AccountID != accountB || ir.Outcome != hresult.Started || ir.ScheduledAt != "2027-02-20T08:00:00+08:00" {
		t.Errorf("account B's: %+v", ir)
	}
	if r.Summary.Scheduled != 6 || r.Summary.Due != 3 {
		t.Errorf("summary %+v", r.Summary)
	}

	stopAll(t, h)
	r = result(t, invoke(t, h, tickAt("2027-02-20T00:00:00Z", `{"regionId":"cn-hangzhou","schedule":{"every":"5m"},"dryRun":true}`)))
	started, dry := startedBy(h)
	slices.Sort(dry)
	if len(started) != 0 || !slices.Equal(slices.Compact(dry), []string{schedWorkdays, schedOffice}) || !r.DryRun || r.Summary.DryRunPassed != 2 {
		t.Errorf("dry run: real %v dry %v, %+v", started, dry, r.Summary)
	}

	out := invoke(t, h, tickAt("2027-02-20T00:00:00Z", `{"regionId":"cn-beijing","schedule":{"tagKey":"start-shedule","every":"5m"}}`))
	r = result(t, out)
	if r.Summary.Mistakes != 1 || len(r.Ignored) != 1 || !strings.Contains(r.Ignored[0].Reason, `"start-shedule"`) {
		t.Errorf("a key nobody carries: %+v %+v", r.Summary, r.Ignored)
	}
	mistake := false
	for _, l := range out.LogsOf("ignored") {
		mistake = mistake || (l["level"] == "ERROR" && l["mistake"] == true)
	}
	if !mistake {
		t.Errorf("no ERROR line with mistake true: %v", out.Logs)
	}
}

// DESIGN §3.2 over HTTP and in a batch (a direct payload that is a JSON
// array): T is the invocation's start; an instance whose schedule is this
// minute is due, one an hour off is not.
func TestScheduleOverHTTPAndInABatch(t *testing.T) {
	t.Parallel()
	fl := fleet(t)
	now := time.Now().UTC()
	fl.Instances = append(fl.Instances,
		ecsemu.Instance{InstanceID: "i-bpschednow00001", RegionID: "cn-hangzhou", Status: "Stopped", Tags: map[string]string{"team-start": now.Format("15:04") + " UTC"}},
		ecsemu.Instance{InstanceID: "i-bpschedlater001", RegionID: "cn-hangzhou", Status: "Stopped", Tags: map[string]string{"team-start": now.Add(time.Hour).Format("15:04") + " UTC"}},
		ecsemu.Instance{InstanceID: "i-2zeschednow0001", RegionID: "cn-beijing", Status: "Stopped", Tags: map[string]string{"team-start": now.Format("15:04") + " daily UTC"}})
	env := scheduleEnv()
	env["SCHEDULE_TAG_KEY"] = "team-start"
	h := startWith(t, fl, env, ecsemu.Options{})

	a := httpResult(t, invoke(t, h, httpEvent(`{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`, bearer(), nil)))
	if a.StatusCode != http.StatusOK || outcomes(a.Result)["i-bpschednow00001"].Outcome != hresult.Started || len(a.Result.InstanceResponses.InstanceResponse) != 1 {
		t.Fatalf("HTTP: %d %s", a.StatusCode, a.Body)
	}
	stopAll(t, h)
	_ = h.ECS.SetInstance(fl.Instances[len(fl.Instances)-3])
	r := result(t, invoke(t, h, []byte(`[{"regionId":"cn-hangzhou","schedule":{"every":"5m"}},{"regionId":"cn-beijing","schedule":{"every":"5m"}}]`)))
	if started, _ := startedBy(h); !slices.Equal(started, []string{"i-2zeschednow0001", "i-bpschednow00001"}) || r.Summary.Due != 2 || r.Summary.Scheduled != 3 {
		t.Errorf("batch: started %v, %+v", started, r.Summary)
	}
}
