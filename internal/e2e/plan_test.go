package e2e

import (
	"fmt"
	"strings"
	"testing"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §4: AllTogether is all or nothing for the request that asks for it,
// whatever else the batch holds: another request naming a partner, or policy
// denying one.
func TestAllTogetherAcrossTheBatch(t *testing.T) {
	t.Parallel()
	const refused = "i-bp1kmsdisabled001" // refused for good (a disabled KMS key)
	t.Run("another request names a partner", func(t *testing.T) {
		h := start(t, nil, ecsemu.Options{})
		for i, body := range []string{
			`[{"instanceIds":["` + refused + `"]},{"instanceIds":["` + refused + `","i-bp67acfmxazb4p0014"],"batchOptimization":"AllTogether"}]`,
			`[{"instanceIds":["` + refused + `","i-bp67acfmxazb4p0015"],"batchOptimization":"AllTogether"},{"instanceIds":["` + refused + `"]}]`,
			`[{"instanceIds":["i-bp67acfmxazb4p0016","` + refused + `"],"batchOptimization":"AllTogether"},{"instanceIds":["` + refused + `","i-bp67acfmxazb4p0017"],"batchOptimization":"AllTogether"}]`,
		} {
			r := result(t, invoke(t, h, []byte(body)))
			for id, ir := range outcomes(r) {
				if ir.Outcome != hresult.Failed || ir.Code != "InvalidParameter.KMSKeyId.CMKNotEnabled" {
					t.Errorf("batch %d: %s: %+v", i, id, ir)
				}
			}
		}
		for _, id := range []string{"i-bp67acfmxazb4p0014", "i-bp67acfmxazb4p0015", "i-bp67acfmxazb4p0016", "i-bp67acfmxazb4p0017"} {
			if in, _ := h.ECS.Instance(id); in.Status != "Stopped" {
				t.Errorf("%s is %s: a partner of a failed AllTogether call started", id, in.Status)
			}
		}
	})
	for _, tc := range []struct {
		name, env, value, partner string
	}{
		{"ALLOWED_INSTANCE_IDS denies a partner", "ALLOWED_INSTANCE_IDS", "i-bp67acfmxazb4p0018", "i-bp67acfmxazb4p0019"},
		{"ALLOWED_TAG denies a partner", "ALLOWED_TAG", "start-ecs=allowed", "i-bp1nobalance00001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, map[string]string{tc.env: tc.value}, ecsemu.Options{})
			r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp67acfmxazb4p0018","`+tc.partner+`"],"batchOptimization":"AllTogether"}`)))
			if len(r.InstanceResponses.InstanceResponse) != 2 {
				t.Fatalf("%+v", r)
			}
			for id, ir := range outcomes(r) {
				if ir.Outcome != hresult.Rejected || ir.Code != hresult.CodeNotAllowed {
					t.Errorf("%s: %+v", id, ir)
				}
			}
			for _, c := range h.ECS.Calls() {
				if c.Action == "StartInstances" {
					t.Fatalf("a StartInstances call for a request policy denies in part: %+v", c)
				}
			}
		})
	}
}

// DESIGN §4: the answer and the log stay bounded by MAX_INSTANCES whatever
// the input holds: 20,000 IDs past the limit are one Ignored entry.
func TestTooManyInstancesStaysBounded(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	ids := make([]string, 20000)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-toomany%08d", i)
	}
	out := invoke(t, h, mustJSON(map[string]any{"instanceIds": ids}))
	r := result(t, out)
	if len(r.InstanceResponses.InstanceResponse) != 0 || len(r.Ignored) != 1 || r.Ignored[0].Code != hresult.CodeTooManyInstances ||
		r.Ignored[0].InstanceCount != 20000 || len(r.Ignored[0].InstanceIDs) > 10 {
		t.Fatalf("%.2000s", out.Payload)
	}
	if len(out.Payload) > 4096 || len(out.Logs) > 3 {
		t.Fatalf("%d bytes of answer, %d log lines", len(out.Payload), len(out.Logs))
	}
	if len(h.ECS.Calls()) != 0 {
		t.Fatal("a refused request reached ECS")
	}
}

// DESIGN §4: planning is linear: one instance named by 20,000 requests is one
// result and one log line of bounded size.
func TestOneInstanceNamedByManyRequests(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	reqs := make([]map[string]any, 20000)
	for i := range reqs {
		reqs[i] = map[string]any{"instanceIds": []string{"i-bp67acfmxazb4p0020"}}
	}
	out := invoke(t, h, mustJSON(reqs))
	r := result(t, out)
	if len(r.InstanceResponses.InstanceResponse) != 1 || r.Summary.Started != 1 {
		t.Fatalf("%+v", r)
	}
	lines := out.LogsOf("instance")
	if len(lines) != 1 || lines[0]["moreSources"] != float64(20000-10) {
		t.Fatalf("%v", lines)
	}
}

// DESIGN §4: an instance is the pair (region, ID) everywhere, whatever the
// order of the requests.
func TestSameIDInTwoRegions(t *testing.T) {
	t.Parallel()
	const a = `{"instanceIds":["i-bp67acfmxazb4p0010"]}`
	const b = `{"regionId":"cn-beijing","instanceIds":["i-bp67acfmxazb4p0010"]}`
	h := start(t, map[string]string{"ALLOWED_REGIONS": "cn-hangzhou", "MAX_INSTANCES": "2"}, ecsemu.Options{})
	for _, body := range []string{"[" + a + "," + b + "]", "[" + b + "," + a + "]"} {
		r := result(t, invoke(t, h, []byte(body)))
		got := map[string]hresult.Outcome{}
		for _, ir := range r.InstanceResponses.InstanceResponse {
			got[ir.RegionID] = ir.Outcome
		}
		if len(r.InstanceResponses.InstanceResponse) != 2 || got["cn-beijing"] != hresult.Rejected ||
			(got["cn-hangzhou"] != hresult.Started && got["cn-hangzhou"] != hresult.AlreadyRunning) {
			t.Fatalf("%s: %+v", body, r.InstanceResponses.InstanceResponse)
		}
	}
	// The third pair passes MAX_INSTANCES=2: reported, not dropped because
	// its ID is known in another region.
	r := result(t, invoke(t, h, []byte(`[{"instanceIds":["i-bp67acfmxazb4p0010","i-bp67acfmxazb4p0011"]},{"regionId":"cn-shanghai","instanceIds":["i-bp67acfmxazb4p0010"]}]`)))
	if len(r.Ignored) != 1 || r.Ignored[0].Code != hresult.CodeTooManyInstances || !strings.Contains(r.Ignored[0].Reason, "cn-shanghai") ||
		len(r.Ignored[0].InstanceIDs) != 1 {
		t.Fatalf("%+v", r.Ignored)
	}
}
