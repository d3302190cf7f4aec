package handler

import (
	"testing"

	"github.com/start-ecs/start-ecs/events"
)

// DESIGN §3.1 wait, §6 HTTP_WAIT: "a request in which anything asks to
// wait — its own wait, a target's or group's, a sequence — is exempt, a dry
// run is not". Judged at any depth, with the outer fields as defaults.
func TestHTTPWaitExemptionFollowsWhatWaits(t *testing.T) {
	const a = `"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]`
	const b = `"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0002"]`
	tests := []struct {
		name       string
		body       string
		dryRunOnly bool
		waits      bool
	}{
		{"no wait", `{` + a + `}`, false, false},
		{"own wait", `{` + a + `,"wait":true}`, false, true},
		{"own wait false", `{` + a + `,"wait":"false"}`, false, false},
		{"a target's wait", `{"targets":[{` + a + `},{` + b + `,"wait":"90s"}]}`, false, true},
		{"outer wait beside targets", `{"wait":"90s","targets":[{` + a + `}]}`, false, true},
		{"a target turns the outer wait off", `{"wait":"90s","targets":[{` + a + `,"wait":"false"}]}`, false, false},
		{"a sequence", `{"sequence":[{` + a + `},{` + b + `}]}`, false, true},
		{"a target in a sequence group", `{"sequence":[{` + a + `,"dryRun":true},{"targets":[{` + b + `}]}]}`, false, true},
		{"a batch with one waiting request", `[{` + a + `},{"targets":[{` + b + `,"wait":true}]}]`, false, true},
		{"dryRun with wait", `{` + a + `,"dryRun":true,"wait":true}`, false, false},
		{"a dry-run target with wait", `{"targets":[{` + a + `,"dryRun":true,"wait":"90s"}]}`, false, false},
		{"outer dryRun beside a target's wait", `{"dryRun":true,"targets":[{` + a + `,"wait":"90s"}]}`, false, false},
		{"a dry-run sequence", `{"dryRun":true,"sequence":[{` + a + `},{` + b + `}]}`, false, false},
		{"a sequence of dry-run groups", `{"sequence":[{` + a + `,"dryRun":true},{` + b + `,"dryRun":true}]}`, false, false},
		{"DRY_RUN_ONLY with wait", `{` + a + `,"wait":true}`, true, false},
		{"DRY_RUN_ONLY with a sequence", `{"sequence":[{` + a + `},{` + b + `}]}`, true, false},
		{"DRY_RUN_ONLY with a target's wait", `{"targets":[{` + a + `,"wait":true}]}`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, errs := events.DecodeHTTP(&events.HTTPRequest{Body: []byte(tc.body), Headers: map[string]string{"Content-Type": "application/json"}})
			if len(errs) > 0 {
				t.Fatalf("%+v", errs)
			}
			if got := asksToWait(msgs, tc.dryRunOnly); got != tc.waits {
				t.Fatalf("asksToWait = %v, want %v (exempt from HTTP_WAIT exactly when something really waits)", got, tc.waits)
			}
		})
	}
}
