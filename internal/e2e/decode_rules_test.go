package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §5, through the binary: a key given twice refuses the request whole
// (every ID of both occurrences Rejected, nothing sent); a non-string element of
// instanceIds is a defect beside the IDs that are strings, which are Rejected too,
// never a phantom ""; values are taken as sent, so a trailing newline refuses.
func TestRequestDefectsFromDecoding(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	const a, b = "i-bp67acfmxazb4p0001", "i-bp67acfmxazb4p0002"
	cases := []struct {
		name, payload string
		rejected      []string
	}{
		{"instanceIds twice", `{"regionId":"cn-hangzhou","instanceIds":["` + a + `"],"instanceIds":["` + b + `"]}`, []string{a, b}},
		{"Action twice", `{"Action":"StartInstances","Action":"StartInstances","RegionId":"cn-hangzhou","InstanceId.1":"` + a + `"}`, []string{a}},
		{"a number beside an ID", `{"regionId":"cn-hangzhou","instanceIds":["` + a + `",5]}`, []string{a}},
		{"null beside an ID", `{"regionId":"cn-hangzhou","instanceIds":["` + a + `",null]}`, []string{a}},
		{"a region with a newline", `{"regionId":"cn-hangzhou\n","instanceIds":["` + a + `"]}`, []string{a}},
		{"an ID with NBSP and NEL", `{"regionId":"cn-hangzhou","instanceIds":["\u00a0` + a + `\u0085"]}`, []string{"\u00a0" + a + "\u0085"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.ECS.ResetCalls()
			r := result(t, invoke(t, h, []byte(tc.payload)))
			got := outcomes(r)
			if len(got) != len(tc.rejected) || r.Summary.Rejected != len(tc.rejected) {
				t.Fatalf("results %+v, want %q Rejected", r.InstanceResponses.InstanceResponse, tc.rejected)
			}
			for _, id := range tc.rejected {
				if ir := got[id]; ir.Outcome != hresult.Rejected || ir.Code != hresult.CodeInvalidParameter {
					t.Errorf("%q: %+v, want Rejected InvalidParameter", id, ir)
				}
			}
			if n := len(h.ECS.Calls()); n != 0 {
				t.Errorf("%d ECS calls for a refused request", n)
			}
		})
	}
}

// DESIGN §4, through the binary: a timer's triggerTime without a zone is UTC, so
// a timer event two hours old expires; an HTTP alarm callback whose body's
// timestamp is fresh expires when the request's timeEpoch is two hours old.
func TestOldEventsExpireByTheirEarliestTime(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	old := time.Now().Add(-2 * time.Hour).UTC()

	ev := mustJSON(map[string]any{"triggerTime": old.Format("2006-01-02T15:04:05"), "triggerName": "morning", "payload": oneInstance})
	r := result(t, invoke(t, h, ev))
	if r.Summary.Requested != 0 || len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0].Reason, "expired") {
		t.Fatalf("timer without a zone: %+v", r)
	}

	form := "alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D&regionId=cn-hangzhou&timestamp=" +
		strconv.FormatInt(time.Now().UnixMilli(), 10)
	var ev2 map[string]any
	if err := json.Unmarshal(httpEvent(form, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + webhookSecret}, nil), &ev2); err != nil {
		t.Fatal(err)
	}
	ev2["requestContext"].(map[string]any)["timeEpoch"] = strconv.FormatInt(old.UnixMilli(), 10)
	p := mustJSON(ev2)
	a := httpResult(t, invoke(t, h, p))
	if a.StatusCode != http.StatusOK || a.Result.Summary.Requested != 0 || len(a.Result.Ignored) != 1 ||
		!strings.HasPrefix(a.Result.Ignored[0].Reason, "expired") {
		t.Fatalf("alarm callback: %d %s", a.StatusCode, a.Body)
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Errorf("%d ECS calls for expired events", n)
	}
}
