package result

import (
	"encoding/json"
	"strings"
	"testing"
)

// DESIGN §3.2: a schedule request's Summary counts Scheduled (carrying the
// key) and Due; those are counts of instances the lookup read, not of the
// entries listed, so Summarize keeps them; an answer without a schedule
// does not show them.
func TestSummaryScheduleCounts(t *testing.T) {
	r := Result{Summary: Summary{Scheduled: 7, Due: 2}}
	r.InstanceResponses.InstanceResponse = []InstanceResult{{InstanceID: "i-1", Outcome: Started, ScheduledAt: "2027-02-20T08:00:00+08:00"}}
	r.Summarize()
	if r.Summary.Scheduled != 7 || r.Summary.Due != 2 || r.Summary.Started != 1 {
		t.Fatalf("Summarize lost the schedule counts: %+v", r.Summary)
	}
	b, _ := json.Marshal(r)
	for _, want := range []string{`"Scheduled":7`, `"Due":2`, `"ScheduledAt":"2027-02-20T08:00:00+08:00"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("answer lacks %s: %s", want, b)
		}
	}
	plain := Result{}
	plain.InstanceResponses.InstanceResponse = []InstanceResult{{InstanceID: "i-1", Outcome: Started}}
	plain.Summarize()
	b, _ = json.Marshal(plain)
	for _, not := range []string{"Scheduled", `"Due"`, "Preview"} {
		if strings.Contains(string(b), not) {
			t.Errorf("an answer without a schedule shows %s: %s", not, b)
		}
	}
}

// DESIGN §3.2: an invalid schedule value is InvalidSchedule, with advice on
// how to write one.
func TestAdviceInvalidSchedule(t *testing.T) {
	if a := Advice(CodeInvalidSchedule); !strings.Contains(a, "schedule tag") {
		t.Fatalf("advice for %s: %q", CodeInvalidSchedule, a)
	}
}
