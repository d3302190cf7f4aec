package e2e

import (
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// DESIGN §3.1 tags: the query spelling with Tag.N and no InstanceId is a start
// request wherever a request may stand. The README gives it as a timer's
// payload for the morning start: exactly that string, from the README, through
// the binary as a timer event, starts the dev fleet of cn-hangzhou.
func TestREADMETimerPayloadInQuerySpellingStartsTheTaggedFleet(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(RegionId=cn-hangzhou&Tag\\.1\\.Key=[^`]*)`").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README gives no timer payload in the query spelling with Tag.1")
	}
	payload := string(m[1])
	fl := fleet(t)
	want := map[string]bool{}
	for _, in := range fl.Instances {
		if in.RegionID == "cn-hangzhou" && in.Tags["env"] == "dev" {
			want[in.InstanceID] = true
		}
	}
	h := startWith(t, fl, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, timerEvent(payload)))
	if len(r.Ignored) > 0 {
		t.Fatalf("timer payload %q: ignored %+v", payload, r.Ignored)
	}
	got := outcomes(r)
	for id := range want {
		if o := got[id].Outcome; o != hresult.Started && o != hresult.AlreadyRunning {
			t.Errorf("%s: %q, want Started or AlreadyRunning", id, o)
		}
	}
	if len(got) != len(want) || r.Summary.Started == 0 {
		t.Errorf("%d instances reported (%d started), want the %d of env=dev in cn-hangzhou", len(got), r.Summary.Started, len(want))
	}
}

// startCalls lists the StartInstances calls the emulator saw.
func startCalls(h *harness.Harness) []ecsemu.Call {
	var out []ecsemu.Call
	for _, c := range h.ECS.Calls() {
		if c.Action == "StartInstances" {
			out = append(out, c)
		}
	}
	return out
}

// DESIGN §6 (WEBHOOK_SECRET): CloudMonitor POSTs its callback as a form that
// names the instance but no region. Beside that form, RegionId in the
// callback URL's query is the region of the alarm's instances, so an alarm on
// an instance outside DEFAULT_REGION_ID starts it; any other start-request
// field there is still a 400.
func TestAlarmCallbackTakesItsRegionFromTheURL(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	form := url.Values{
		"alertName": {"cpu-low"}, "alertState": {"ALERT"}, "metricName": {"CPUUtilization"},
		"namespace": {"acs_ecs_dashboard"}, "userId": {"1234567890123456"}, "ruleId": {"rule-1"},
		"dimensions": {"{userId=1234567890123456, instanceId=i-uf6shanghaidemo01}"},
		"timestamp":  {strconv.FormatInt(time.Now().UnixMilli(), 10)},
	}.Encode()
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	a := httpResult(t, invoke(t, h, httpEvent(form, formCT, map[string]string{"token": webhookSecret, "RegionId": "cn-shanghai"})))
	ir := outcomes(a.Result)["i-uf6shanghaidemo01"]
	if a.StatusCode != http.StatusOK || ir.Outcome != hresult.Started || ir.RegionID != "cn-shanghai" {
		t.Fatalf("%d %s, want 200 and i-uf6shanghaidemo01 Started in cn-shanghai", a.StatusCode, a.Body)
	}
	if calls := startCalls(h); len(calls) != 1 || calls[0].RegionID != "cn-shanghai" {
		t.Fatalf("StartInstances calls %+v, want one in cn-shanghai", calls)
	}

	for _, q := range []map[string]string{
		{"token": webhookSecret, "RegionId": "cn-shanghai", "InstanceId.1": "i-bp67acfmxazb4p0001"},
		{"token": webhookSecret, "DryRun": "true"},
	} {
		a := httpResult(t, invoke(t, h, httpEvent(form, formCT, q)))
		if a.StatusCode != http.StatusBadRequest || len(a.Error.Errors) != 1 || !strings.Contains(a.Error.Errors[0].Message, "beside a body") {
			t.Errorf("alarm with query keys %v: %d %s, want 400 naming the start-request field", slices.Sorted(maps.Keys(q)), a.StatusCode, a.Body)
		}
	}
	if calls := startCalls(h); len(calls) != 1 {
		t.Errorf("%d StartInstances calls, want the first alarm's only", len(calls))
	}
}

// DESIGN §6: beside any body, a query key that is no start-request field in
// any spelling or case (a sender's own ref=… or source=… in the webhook URL)
// is ignored and never logged, and the request goes on; a start-request field
// there, in any case, stays a 400.
func TestUnrelatedQueryKeysBesideABodyAreIgnored(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	const marker = "deploy-7-q9x4"
	a := httpResult(t, invoke(t, h, httpEvent(oneInstance, nil, map[string]string{"token": webhookSecret, "ref": marker, "source": marker + "-src"})))
	if a.StatusCode != http.StatusOK || outcomes(a.Result)["i-bp67acfmxazb4p0001"].Outcome != hresult.Started {
		t.Fatalf("%d %s, want 200 and the body's instance Started", a.StatusCode, a.Body)
	}
	if strings.Contains(h.Fn.Output(), marker) {
		t.Error("an ignored query value reached the log")
	}
	for _, key := range []string{"regionid", "INSTANCEID.1", "instance_ids"} {
		a := httpResult(t, invoke(t, h, httpEvent(oneInstance, nil, map[string]string{"token": webhookSecret, key: "x", "ref": marker})))
		if a.StatusCode != http.StatusBadRequest || len(a.Error.Errors) != 1 || a.Error.Errors[0].Field != key {
			t.Errorf("query %s beside a body: %d %s, want 400 naming it", key, a.StatusCode, a.Body)
		}
	}
}

// DESIGN §3: batchOptimization's default follows the spelling. Over HTTP in
// the query spelling, InstanceId.N (ECS's) runs AllTogether, ECS's default;
// instanceIds runs SuccessFirst; a tag selection without IDs runs SuccessFirst
// in either spelling; a BatchOptimization sent wins.
func TestDefaultBatchFollowsTheSpellingOverHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		query      map[string]string
		want       string
	}{
		{"InstanceId.N in the query", "", map[string]string{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0001", "InstanceId.2": "i-bp67acfmxazb4p0002"}, "AllTogether"},
		{"InstanceId=[…] in the query", "", map[string]string{"RegionId": "cn-hangzhou", "InstanceId": `["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]`}, "AllTogether"},
		{"InstanceId.N with SuccessFirst", "", map[string]string{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0001", "InstanceId.2": "i-bp67acfmxazb4p0002", "BatchOptimization": "SuccessFirst"}, "SuccessFirst"},
		{"instanceIds in a JSON body", `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]}`, nil, "SuccessFirst"},
		{"Tag.N without IDs in the query", "", map[string]string{"RegionId": "cn-hangzhou", "Tag.1.Key": "app", "Tag.1.Value": "web"}, "SuccessFirst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
			a := httpResult(t, invoke(t, h, httpEvent(tc.body, bearer(), tc.query)))
			if a.StatusCode != http.StatusOK || a.Result.Summary.Started != 2 {
				t.Fatalf("%d %s, want 200 and two Started", a.StatusCode, a.Body)
			}
			calls := startCalls(h)
			if len(calls) != 1 || calls[0].BatchOptimization != tc.want {
				t.Fatalf("StartInstances calls %+v, want one with BatchOptimization %s", calls, tc.want)
			}
		})
	}
}
