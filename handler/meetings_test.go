package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// The meetings table. The project's rule: a feature is done when it works
// where it meets the others — a field at the outer level and inside targets
// and sequence groups, in a batch of messages, over HTTP and from a timer, in
// both spellings, on a dry run, with two invocations at once. Each row is a
// field of the start request; each column a place or carrier it meets. Every
// cell sends a real payload through Handle (decode, plan, start, report) and
// asserts what the fake ECS received and what the answer says for the two
// instances the field governs (A, B), and, in a batch, that the field does
// not leak into the other message's instance (D). A new field gets a row.
// docs/design.md ("Testing") describes the table.

// meetingPlaces are the table's columns.
var meetingPlaces = []string{
	"plain",                    // {field, instanceIds}
	"beside targets",           // {field, targets:[{instanceIds}]}
	"inside a target",          // {targets:[{field, instanceIds}]}
	"beside sequence",          // {field, sequence:[{instanceIds}, {…C}]}
	"inside a group",           // {sequence:[{field, instanceIds}, {…C}]}
	"group's target",           // {sequence:[{targets:[{field, instanceIds}]}, {…C}]}
	"beside a group's targets", // {sequence:[{field, targets:[{instanceIds}]}, {…C}]}
	"batch",                    // [{field, instanceIds}, {instanceIds:[D]}]
	"http",                     // the plain body over HTTP
	"timer",                    // the plain body as a timer's payload
	"ecs spelling",             // RegionId, InstanceId, …, where the field has one
	"dry run",                  // the plain body with dryRun
	"two at once",              // two invocations, beside targets and plain, at once
}

// meetingRow is one field: its JSON fragment (ecs: in ECS's spelling, ""
// when it has none), the environment it needs, and what must hold of A and B.
type meetingRow struct {
	field, frag, ecs string
	env              map[string]string
	// outerOnlyInvalid: the field may not stand beside targets or a
	// sequence (tags, roleArn): there the request is refused, naming it.
	outerOnlyInvalid bool
	// sched: a schedule row (DESIGN §3.2). Its fragment holds {KEY}, the
	// cell's own tag key, and selects the instances carrying it (A: due
	// now, or schedA; B: an invalid value; C: due in an hour) instead of
	// naming them; in a sequence, or beside instanceIds, it is refused.
	sched  bool
	schedA string
	check  func(t *testing.T, c meetingCell)
}

// meetingCell is what one cell saw: the result, and the calls for A and B.
type meetingCell struct {
	res    result.Result
	dry    bool // the cell is a dry run
	a, b   string
	calls  []ecsapi.StartInstancesInput // the StartInstances calls naming a or b
	creds  []ecsapi.Credentials         // their credentials
	ignore []result.IgnoredEvent
}

func (c meetingCell) outcome(id string) result.InstanceResult {
	for _, ir := range c.res.InstanceResponses.InstanceResponse {
		if ir.InstanceID == id {
			return ir
		}
	}
	return result.InstanceResult{}
}

// started is the outcome a start that goes through has in this cell.
func (c meetingCell) started() result.Outcome {
	if c.dry {
		return result.DryRunPassed
	}
	return result.Started
}

func TestMeetingsTable(t *testing.T) {
	now := time.Now()
	// A zone whose date differs from UTC's now: the timeZone row's skip
	// date falls on today there, not in UTC.
	zone := "Pacific/Kiritimati"
	if loc, _ := plan.LoadZone(zone); now.In(loc).Format(plan.DateLayout) == now.UTC().Format(plan.DateLayout) {
		zone = "Pacific/Pago_Pago"
	}
	loc, _ := plan.LoadZone(zone)
	zoneToday := now.In(loc).Format(plan.DateLayout)
	// The schedule rows' values: due in this minute's tick, and the first
	// Saturday after today (UTC), a make-up working day for workDates.
	dueNow := now.UTC().Format("15:04") + " daily UTC"
	saturday := now.UTC().AddDate(0, 0, 1)
	for saturday.Weekday() != time.Saturday {
		saturday = saturday.AddDate(0, 0, 1)
	}
	previewOf := func(t *testing.T, c meetingCell, id string) result.PreviewInstance {
		t.Helper()
		if len(c.calls) > 0 {
			t.Errorf("a preview sent StartInstances: %+v", c.calls)
		}
		if c.res.Preview == nil {
			t.Errorf("no Preview: %+v", c.res)
			return result.PreviewInstance{}
		}
		for _, pi := range c.res.Preview.Instances {
			if pi.InstanceID == id {
				return pi
			}
		}
		t.Errorf("%s not in the preview: %+v", id, c.res.Preview)
		return result.PreviewInstance{}
	}
	utcDays := fmt.Sprintf(`[%q,%q,%q]`, now.UTC().AddDate(0, 0, -1).Format(plan.DateLayout), now.UTC().Format(plan.DateLayout), now.UTC().AddDate(0, 0, 1).Format(plan.DateLayout))

	notSent := func(t *testing.T, c meetingCell, why string) {
		t.Helper()
		if len(c.calls) > 0 {
			t.Errorf("A or B was sent: %+v", c.calls)
		}
		for _, id := range []string{c.a, c.b} {
			if ir := c.outcome(id); ir.Outcome != "" && ir.Outcome != result.Skipped {
				t.Errorf("%s: %+v, want no start", id, ir)
			}
		}
		for _, ig := range c.ignore {
			if strings.Contains(ig.Reason, why) {
				return
			}
		}
		t.Errorf("no Ignored entry says %q: %+v", why, c.ignore)
	}
	rows := []meetingRow{
		{field: "regionId", frag: `"regionId":"cn-shanghai"`, ecs: `"RegionId":"cn-shanghai"`,
			check: func(t *testing.T, c meetingCell) {
				for _, call := range c.calls {
					if call.RegionID != "cn-shanghai" {
						t.Errorf("sent to %s, want cn-shanghai (DEFAULT_REGION_ID is cn-hangzhou): %+v", call.RegionID, call)
					}
				}
				if ir := c.outcome(c.a); ir.RegionID != "cn-shanghai" || ir.Outcome != c.started() || len(c.calls) == 0 {
					t.Errorf("A: %+v", ir)
				}
			}},
		{field: "batchOptimization", frag: `"batchOptimization":"AllTogether"`, ecs: `"BatchOptimization":"AllTogether"`,
			check: func(t *testing.T, c meetingCell) {
				if len(c.calls) != 1 || c.calls[0].BatchOptimization != ecsapi.AllTogether || len(c.calls[0].InstanceIDs) != 2 {
					t.Errorf("want one AllTogether call with A and B: %+v", c.calls)
				}
			}},
		{field: "dryRun", frag: `"dryRun":true`, ecs: `"DryRun":true`,
			check: func(t *testing.T, c meetingCell) {
				for _, call := range c.calls {
					if !call.DryRun {
						t.Errorf("a real call: %+v", call)
					}
				}
				if ir := c.outcome(c.a); ir.Outcome != result.DryRunPassed || len(c.calls) == 0 {
					t.Errorf("A: %+v", ir)
				}
			}},
		{field: "wait", frag: `"wait":"30s"`,
			check: func(t *testing.T, c meetingCell) {
				ir := c.outcome(c.a)
				if c.dry {
					if ir.Outcome != result.DryRunPassed {
						t.Errorf("A: %+v", ir)
					}
					return
				}
				if ir.Outcome != result.Started || ir.CurrentStatus != "Running" {
					t.Errorf("A: %+v, want Started and Running (waited for)", ir)
				}
			}},
		{field: "notAfter", frag: `"notAfter":"2020-01-01T00:00:00Z"`,
			check: func(t *testing.T, c meetingCell) { notSent(t, c, "notAfter 2020-01-01T00:00:00Z") }},
		{field: "skipDates", frag: `"skipDates":` + utcDays,
			check: func(t *testing.T, c meetingCell) { notSent(t, c, "skip date "+now.UTC().Format(plan.DateLayout)) }},
		{field: "timeZone", frag: `"timeZone":"` + zone + `"`, env: map[string]string{"SKIP_DATES": zoneToday},
			check: func(t *testing.T, c meetingCell) { notSent(t, c, "skip date "+zoneToday+" ("+zone+")") }},
		{field: "tags", frag: `"tags":[{"key":"env","value":"dev"}]`, ecs: `"Tag.1.Key":"env","Tag.1.Value":"dev"`, outerOnlyInvalid: true,
			check: func(t *testing.T, c meetingCell) {
				if ir := c.outcome(c.a); ir.Outcome != c.started() {
					t.Errorf("A carries env=dev: %+v", ir)
				}
				if ir := c.outcome(c.b); ir.Outcome != result.Rejected || ir.Code != result.CodeNotAllowed {
					t.Errorf("B does not carry env=dev: %+v", ir)
				}
			}},
		{field: "roleArn", frag: `"roleArn":"` + roleB + `"`, env: map[string]string{"ALLOWED_ROLE_ARNS": roleB}, outerOnlyInvalid: true,
			check: func(t *testing.T, c meetingCell) {
				for _, cr := range c.creds {
					if cr.AccessKeyID != "STS.assumed-1222333444555666" {
						t.Errorf("sent with %s, want the role's credentials", cr.AccessKeyID)
					}
				}
				if ir := c.outcome(c.a); ir.Outcome != c.started() || ir.AccountID != "1222333444555666" || len(c.calls) == 0 {
					t.Errorf("A: %+v", ir)
				}
			}},
		{field: "schedule", frag: `"schedule":{"tagKey":"{KEY}","every":"5m"}`, ecs: `"Schedule":{"TagKey":"{KEY}","Every":"5m"}`, sched: true, schedA: dueNow,
			check: func(t *testing.T, c meetingCell) {
				if ir := c.outcome(c.a); ir.Outcome != c.started() || ir.ScheduledAt == "" || len(c.calls) == 0 {
					t.Errorf("A, due now: %+v", ir)
				}
				if ir := c.outcome(c.b); ir.Outcome != result.Rejected || ir.Code != result.CodeInvalidSchedule {
					t.Errorf("B, 8am: %+v", ir)
				}
				for _, call := range c.calls {
					for _, id := range call.InstanceIDs {
						if id != c.a && !strings.HasSuffix(id, "d") { // d: the batch's other message
							t.Errorf("sent more than A (B is invalid, C due in an hour): %+v", call)
						}
					}
				}
				if s := c.res.Summary; s.Scheduled != 3 || s.Due != 1 {
					t.Errorf("summary %+v, want 3 scheduled, 1 due", s)
				}
			}},
		{field: "preview", frag: `"schedule":{"tagKey":"{KEY}"},"preview":"1d"`, ecs: `"Schedule":{"TagKey":"{KEY}"},"Preview":"1d"`, sched: true, schedA: dueNow,
			check: func(t *testing.T, c meetingCell) {
				if pi := previewOf(t, c, c.a); len(pi.Starts) != 1 {
					t.Errorf("A's next day: %+v", pi)
				}
				if pi := previewOf(t, c, c.b); pi.Code != result.CodeInvalidSchedule {
					t.Errorf("B: %+v", pi)
				}
				if c.outcome(c.a).Outcome != "" || c.outcome(c.b).Outcome != "" {
					t.Errorf("a preview lists outcomes: %+v", c.res.InstanceResponses)
				}
			}},
		{field: "workDates", frag: `"schedule":{"tagKey":"{KEY}"},"preview":"8d","workDates":["` + saturday.Format(plan.DateLayout) + `"]`, sched: true,
			schedA: now.UTC().Format("15:04") + " workdays UTC",
			check: func(t *testing.T, c meetingCell) {
				pi := previewOf(t, c, c.a)
				if !strings.Contains(strings.Join(pi.Starts, " "), saturday.Format(plan.DateLayout)+"T") {
					t.Errorf("A's workdays do not hold the make-up Saturday %s: %+v", saturday.Format(plan.DateLayout), pi)
				}
			}},
	}
	for ri, row := range rows {
		t.Run(row.field, func(t *testing.T) {
			t.Parallel()
			m := newMeeting(t, ri, row)
			for ci, place := range meetingPlaces {
				t.Run(place, func(t *testing.T) {
					t.Parallel()
					m.cell(t, ci, place)
				})
			}
		})
	}
}

// meeting is one row's handler, fleet and fake ECS.
type meeting struct {
	row meetingRow
	ri  int
	h   *Handler
	fl  *ecsapitest.Fleet
	e   *ecsapitest.ECS
}

func newMeeting(t *testing.T, ri int, row meetingRow) *meeting {
	env := map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "HTTP_AUTH": "secret", "WEBHOOK_SECRET": authTestSecret}
	for k, v := range row.env {
		env[k] = v
	}
	fl := ecsapitest.NewFleet(map[string]string{})
	for ci := range len(meetingPlaces) * 4 {
		for _, x := range "abcd" {
			id := fmt.Sprintf("i-meet%02d%02d%c", ri, ci, x)
			fl.Status[id] = "Stopped"
			switch {
			case row.sched && x != 'd':
				// Each cell's slot has its own key: a cell finds its
				// own A, B, C and nothing else.
				value := map[rune]string{'a': row.schedA, 'b': "8am", 'c': time.Now().UTC().Add(time.Hour).Format("15:04") + " daily UTC"}[x]
				fl.Tags[id] = map[string]string{meetKey(ri, ci): value}
			case x == 'a':
				fl.Tags[id] = map[string]string{"env": "dev"}
			}
		}
	}
	e := fl.RunningOnceLookedAt()
	h, _ := testHandler(t, env, e)
	h.starter.PollInterval = 10 * time.Millisecond
	h.SetSTS(&fakeSTS{})
	return &meeting{row: row, ri: ri, h: h, fl: fl, e: e}
}

// meetKey is the schedule tag key of row ri's slot s.
func meetKey(ri, s int) string { return fmt.Sprintf("meet-%02d-%02d", ri, s) }

// body places the row's fragment: place is a column; a, b are the
// instances it governs, c a later group's, d another message's. A
// schedule row's fragment selects them instead of naming them.
func (m *meeting) body(place, frag, a, b, c, d string) string {
	ids := fmt.Sprintf(`"instanceIds":[%q,%q]`, a, b)
	if m.row.sched {
		return m.schedBody(place, frag, c, d)
	}
	later := fmt.Sprintf(`{"regionId":"cn-hangzhou","instanceIds":[%q]}`, c)
	switch place {
	case "beside targets":
		return fmt.Sprintf(`{%s,"targets":[{%s}]}`, frag, ids)
	case "inside a target":
		return fmt.Sprintf(`{"targets":[{%s,%s}]}`, frag, ids)
	case "beside sequence":
		return fmt.Sprintf(`{%s,"sequence":[{%s},%s]}`, frag, ids, later)
	case "inside a group":
		return fmt.Sprintf(`{"sequence":[{%s,%s},%s]}`, frag, ids, later)
	case "group's target":
		return fmt.Sprintf(`{"sequence":[{"targets":[{%s,%s}]},%s]}`, frag, ids, later)
	case "beside a group's targets":
		return fmt.Sprintf(`{"sequence":[{%s,"targets":[{%s}]},%s]}`, frag, ids, later)
	case "batch":
		return fmt.Sprintf(`[{%s,%s},{"instanceIds":[%q]}]`, frag, ids, d)
	case "dry run":
		return fmt.Sprintf(`{"dryRun":true,%s,%s}`, frag, ids)
	}
	return fmt.Sprintf(`{%s,%s}`, frag, ids)
}

// schedBody is body for a schedule row: frag alone selects; c and d are
// the named instances of a sequence's groups and of the batch's other
// message.
func (m *meeting) schedBody(place, frag, c, d string) string {
	in := func(id string) string { return fmt.Sprintf(`{"regionId":"cn-hangzhou","instanceIds":[%q]}`, id) }
	switch place {
	case "beside targets":
		return fmt.Sprintf(`{%s,"targets":[{"regionId":"cn-hangzhou"}]}`, frag)
	case "inside a target":
		return fmt.Sprintf(`{"targets":[{%s}]}`, frag)
	case "beside sequence":
		return fmt.Sprintf(`{%s,"sequence":[%s,%s]}`, frag, in(c), in(d))
	case "inside a group":
		return fmt.Sprintf(`{"sequence":[{%s},%s]}`, frag, in(c))
	case "group's target":
		return fmt.Sprintf(`{"sequence":[{"targets":[{%s}]},%s]}`, frag, in(c))
	case "beside a group's targets":
		return fmt.Sprintf(`{"sequence":[{%s,"targets":[{"regionId":"cn-hangzhou"}]},%s]}`, frag, in(c))
	case "batch":
		return fmt.Sprintf(`[{%s},{"instanceIds":[%q]}]`, frag, d)
	case "dry run":
		return fmt.Sprintf(`{"dryRun":true,%s}`, frag)
	}
	return fmt.Sprintf(`{%s}`, frag)
}

// schedRefused asserts that a schedule row's request was refused naming
// want, nothing of the cell sent (DESIGN §3.2: no schedule in a sequence
// nor beside instanceIds).
func (m *meeting) schedRefused(t *testing.T, res result.Result, want string, ids ...string) {
	t.Helper()
	for _, call := range m.e.Calls() {
		for _, id := range call.InstanceIDs {
			for _, mine := range ids {
				if id == mine {
					t.Errorf("%s was sent: %+v", id, call)
				}
			}
		}
	}
	said := fmt.Sprint(res.Ignored, res.InstanceResponses)
	if !strings.Contains(said, want) || !strings.Contains(said, result.CodeInvalidParameter) {
		t.Errorf("want refused naming %s: %+v", want, res)
	}
}

func (m *meeting) cell(t *testing.T, ci int, place string) {
	row := m.row
	id := func(k, x int) string { return fmt.Sprintf("i-meet%02d%02d%c", m.ri, ci*4+k, "abcd"[x]) }
	a, b, c, d := id(0, 0), id(0, 1), id(0, 2), id(0, 3)
	key := func(k int) string { return meetKey(m.ri, ci*4+k) }
	if row.sched {
		row.frag = strings.ReplaceAll(row.frag, "{KEY}", key(0))
		row.ecs = strings.ReplaceAll(row.ecs, "{KEY}", key(0))
		switch {
		case strings.Contains(place, "sequence") || strings.Contains(place, "group"):
			m.schedRefused(t, m.run(t, place, m.schedBody(place, row.frag, c, d)), "schedule", a, b, c, d)
			return
		case place == "plain":
			// Beside instanceIds: refused, naming them.
			m.schedRefused(t, m.run(t, place, fmt.Sprintf(`{%s,"instanceIds":[%q,%q]}`, row.frag, a, b)), "cannot stand beside schedule", a, b)
		}
	}
	outerOnly := strings.HasPrefix(place, "beside")
	if row.field == "dryRun" && place == "dry run" {
		t.Skip("the plain column is this cell")
	}
	if place == "ecs spelling" {
		if row.ecs == "" {
			t.Skipf("%s has no ECS spelling", row.field)
		}
		batch := `,"BatchOptimization":"SuccessFirst"`
		if row.field == "batchOptimization" {
			batch = ""
		}
		if row.sched {
			m.check(t, place, fmt.Sprintf(`{%s}`, row.ecs), a, b, d, false)
			return
		}
		m.check(t, place, fmt.Sprintf(`{%s,"InstanceId":[%q,%q]%s}`, row.ecs, a, b, batch), a, b, d, false)
		return
	}
	if place == "two at once" {
		var wg sync.WaitGroup
		for k, p := range []string{"beside targets", "plain"} {
			if row.outerOnlyInvalid {
				p = "inside a target"
			}
			wg.Go(func() {
				a, b, c := id(k, 0), id(k, 1), id(k, 2)
				frag := strings.ReplaceAll(m.row.frag, "{KEY}", key(k))
				m.check(t, p, m.body(p, frag, a, b, c, d), a, b, d, false)
			})
		}
		wg.Wait()
		return
	}
	body := m.body(place, row.frag, a, b, c, d)
	if row.outerOnlyInvalid && outerOnly {
		// tags and roleArn cannot stand beside targets or a sequence:
		// the request is refused whole, naming the field.
		res := m.run(t, place, body)
		calls, _ := m.callsFor(a, b)
		if n := len(calls); n > 0 || res.Summary.Rejected == 0 || !strings.Contains(fmt.Sprint(res.InstanceResponses), row.field) {
			t.Errorf("want refused naming %s, nothing sent: %d calls, %+v", row.field, n, res)
		}
		return
	}
	m.check(t, place, body, a, b, d, place == "dry run")
}

// check runs body and the row's check, and in a batch that d was started
// as its own message asks (nothing of the field leaks into it).
func (m *meeting) check(t *testing.T, place, body, a, b, d string, dry bool) {
	res := m.run(t, place, body)
	calls, creds := m.callsFor(a, b)
	m.row.check(t, meetingCell{res: res, dry: dry || m.row.field == "dryRun", a: a, b: b, calls: calls, creds: creds, ignore: res.Ignored})
	if place == "batch" {
		ir := meetingCell{res: res}.outcome(d)
		if ir.Outcome != result.Started || ir.RegionID != "cn-hangzhou" || ir.AccountID != "" {
			t.Errorf("the other message's %s: %+v, want Started in cn-hangzhou", d, ir)
		}
		for _, call := range m.e.Calls() {
			if call.InstanceIDs[0] == d && (call.DryRun || call.BatchOptimization != ecsapi.SuccessFirst) {
				t.Errorf("the other message's call took the field: %+v", call)
			}
		}
	}
}

// run sends body through Handle as place carries it: a direct payload, an
// HTTP trigger event, a timer event.
func (m *meeting) run(t *testing.T, place, body string) result.Result {
	t.Helper()
	ctx := invContext(context.Background(), "req-meet")
	var payload []byte
	switch place {
	case "http":
		payload = authEvent(t, body, map[string]string{"Authorization": "Bearer " + authTestSecret, "Content-Type": "application/json"}, nil)
	case "timer":
		payload, _ = json.Marshal(map[string]any{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "meet", "payload": body})
	default:
		payload = []byte(body)
	}
	// Errorf, not Fatalf: two cells run in goroutines of one test.
	out, err := m.h.Handle(ctx, payload)
	if err != nil {
		t.Errorf("%s: %v", body, err)
		return result.Result{}
	}
	if place == "http" {
		var resp HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Errorf("%s: %v", out, err)
			return result.Result{}
		}
		out = []byte(resp.Body)
	}
	var res result.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Errorf("%s: %v", out, err)
	}
	return res
}

// callsFor are the StartInstances calls naming a or b, and their credentials.
func (m *meeting) callsFor(a, b string) ([]ecsapi.StartInstancesInput, []ecsapi.Credentials) {
	m.e.Mu.Lock()
	defer m.e.Mu.Unlock()
	var calls []ecsapi.StartInstancesInput
	var creds []ecsapi.Credentials
	for i, call := range m.e.StartCalls {
		for _, id := range call.InstanceIDs {
			if id == a || id == b {
				calls = append(calls, call)
				creds = append(creds, m.e.StartCreds[i])
				break
			}
		}
	}
	return calls, creds
}
