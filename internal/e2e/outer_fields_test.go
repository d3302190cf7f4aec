package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// DESIGN §3.1, outer fields: beside targets or a sequence, every outer field
// is the default of every target and group that does not set it; nothing at
// the outer level is accepted and then ignored. Through the real binary:
// the AllTogether beside targets (it sent SuccessFirst, started A
// while B failed), an outer regionId beside targets (accepted and ignored),
// and an outer wait beside a sequence (no effect: it waited to the deadline).
func TestOuterFieldsThroughTheBinary(t *testing.T) {
	t.Parallel()
	t.Run("AllTogether beside targets", func(t *testing.T) {
		t.Parallel()
		h := start(t, nil, ecsemu.Options{})
		const a = "i-bp67acfmxazb4p0001"
		out := invoke(t, h, []byte(`{"batchOptimization":"AllTogether","targets":[{"regionId":"cn-hangzhou","instanceIds":["`+a+`","i-bpnotthere00001"]}]}`))
		got := outcomes(result(t, out))
		if got[a].Outcome == hresult.Started {
			t.Errorf("A started although its AllTogether partner does not exist: %+v", got[a])
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" && c.BatchOptimization != ecsapi.AllTogether {
				t.Errorf("sent %q: %+v", c.BatchOptimization, c)
			}
		}
	})
	t.Run("regionId beside targets", func(t *testing.T) {
		t.Parallel()
		h := start(t, nil, ecsemu.Options{}) // DEFAULT_REGION_ID is cn-hangzhou
		r := result(t, invoke(t, h, []byte(`{"regionId":"cn-shanghai","targets":[{"instanceIds":["i-uf6shanghaidemo01"]}]}`)))
		if ir := outcomes(r)["i-uf6shanghaidemo01"]; ir.Outcome != hresult.Started || ir.RegionID != "cn-shanghai" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("wait beside sequence", func(t *testing.T) {
		t.Parallel()
		h := start(t, nil, ecsemu.Options{StartDelay: -1}) // never Running
		const first, later = "i-bp67acfmxazb4p0004", "i-bp67acfmxazb4p0005"
		began := time.Now()
		out := invoke(t, h, timerEvent(`{"wait":"3s","regionId":"cn-hangzhou","sequence":[{"instanceIds":["`+first+`"]},{"instanceIds":["`+later+`"]}]}`),
			func(i *fcemu.Invocation) { i.Timeout = 60 * time.Second })
		took := time.Since(began)
		if !out.IsError || !strings.Contains(out.ErrorMessage, first+" ("+hresult.CodeWaitTimeout+")") {
			t.Fatalf("want the waiting group Unfinished (WaitTimeout): %v %.300s", out.IsError, out.ErrorMessage)
		}
		if took > 20*time.Second {
			t.Errorf("answered after %s: the outer wait of 3s did not bound the sequence", took)
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" && c.InstanceIDs[0] == later {
				t.Errorf("the later group was sent: %+v", c)
			}
		}
		var skipped bool
		for _, l := range out.LogsOf("instance") {
			skipped = skipped || (l["instanceId"] == later && l["outcome"] == string(hresult.Skipped))
		}
		if !skipped {
			t.Errorf("the later group is not logged Skipped")
		}
	})
}

// DESIGN §3.1 sequence: a group that ends Ignored (its notAfter passed, its
// own skip date) stops the sequence like a failure: the later groups are
// Skipped (SequenceStopped), never sent.
func TestIgnoredGroupStopsTheSequenceThroughTheBinary(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	days := fmt.Sprintf(`[%q,%q,%q]`, now.AddDate(0, 0, -1).Format("2006-01-02"), now.Format("2006-01-02"), now.AddDate(0, 0, 1).Format("2006-01-02"))
	h := start(t, nil, ecsemu.Options{})
	for _, group0 := range []string{`"notAfter":"2020-01-01T00:00:00Z"`, `"skipDates":` + days} {
		reset(t, h)
		const later = "i-bp67acfmxazb4p0002"
		r := result(t, invoke(t, h, []byte(`{"regionId":"cn-hangzhou","sequence":[{`+group0+`,"instanceIds":["i-bp67acfmxazb4p0001"]},{"instanceIds":["`+later+`"]}]}`)))
		if ir := outcomes(r)[later]; ir.Outcome != hresult.Skipped || ir.Code != hresult.CodeSequenceStopped || !strings.Contains(ir.Message, "sequence[0]") {
			t.Errorf("%s: the later group %+v, want Skipped naming sequence[0]", group0, ir)
		}
		for _, c := range h.ECS.Calls() {
			if c.Action == "StartInstances" {
				t.Errorf("%s: sent %+v", group0, c)
			}
		}
	}
}

// DESIGN §3.1: an instance named by a batch message and by a sequence is
// carried out as each asks, and its one result is that of the ECS call that
// really decided it: started for real by the sequence, never reported
// DryRunPassed (the other message a dry run) or Rejected (it was invalid).
func TestBatchAndSequenceThroughTheBinary(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	const x, y = "i-bp67acfmxazb4p0001", "i-bp67acfmxazb4p0002"
	seq := `{"regionId":"cn-hangzhou","sequence":[{"instanceIds":["` + x + `"]},{"instanceIds":["` + y + `"]}]}`
	for _, other := range []string{`{"dryRun":true,"instanceIds":["` + x + `"]}`, `{"instanceIds":["` + x + `","i-BAD"]}`} {
		for _, body := range []string{"[" + other + "," + seq + "]", "[" + seq + "," + other + "]"} {
			reset(t, h)
			r := result(t, invoke(t, h, []byte(body)))
			realStarts := 0
			for _, c := range h.ECS.Calls() {
				if c.Action == "StartInstances" && !c.DryRun && c.InstanceIDs[0] == x {
					realStarts++
				}
			}
			if ir := outcomes(r)[x]; realStarts != 1 || ir.Outcome != hresult.Started {
				t.Errorf("%s: %d real starts, reported %+v; want Started", body, realStarts, ir)
			}
			if ir := outcomes(r)[y]; ir.Outcome != hresult.Started {
				t.Errorf("%s: group 1 %+v", body, ir)
			}
		}
	}
}
