package e2e

import (
	"slices"
	"strings"
	"testing"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §7, "An AllTogether call that ECS refuses for good": ECS names no
// culprit, so the function looks the instances up once; the instance that
// failed the call keeps ECS's code, message and advice, a partner that is
// fine is Failed with a message naming the culprit(s) and advice to remove
// them or use SuccessFirst, and a partner already Running is AlreadyRunning.
// Through the real binary, by every carrier, on a real run and a dry run;
// nothing starts in any of them (the emulator's record of starts).
func TestAllTogetherRefusalTellsEachPartnerTheTruth(t *testing.T) {
	t.Parallel()
	const (
		stopped  = "i-bp67acfmxazb4p0005"
		running  = "i-bp67acfmxazb4p0003"
		notThere = "i-bp1notthere000001"
		gone2    = "i-bp1notthere000002"
		locked   = "i-bp1lockeddemo0001"
	)
	type want struct {
		outcome hresult.Outcome
		code    string
		message []string // each in the Message
		advice  string   // in the Advice
	}
	ecsNotFound := want{hresult.Failed, "InvalidInstanceIds.NotFound", []string{"The specified InstanceIds does not exist."}, "check the instance ID"}
	already := want{hresult.AlreadyRunning, "200", []string{"already Running"}, ""}
	partner := func(code string, culprits ...string) want {
		return want{hresult.Failed, code, append([]string{"not started: started all together with "}, culprits...), "from the request, or start with SuccessFirst"}
	}
	cases := []struct {
		name    string
		request string
		want    map[string]want
	}{
		{"the issue's request: a partner Running, a partner Stopped",
			`{"regionId":"cn-hangzhou","instanceIds":["` + stopped + `","` + running + `","` + notThere + `"],"batchOptimization":"AllTogether"}`,
			map[string]want{notThere: ecsNotFound, running: already,
				stopped: partner("InvalidInstanceIds.NotFound", notThere+", which does not exist in cn-hangzhou")}},
		{"two culprits",
			`{"regionId":"cn-hangzhou","instanceIds":["` + notThere + `","` + stopped + `","` + gone2 + `"],"batchOptimization":"AllTogether"}`,
			map[string]want{notThere: ecsNotFound, gone2: ecsNotFound,
				stopped: partner("InvalidInstanceIds.NotFound", notThere+", which does not exist", gone2+", which does not exist")}},
		{"a culprit whose own state refused the call (security lock)",
			`{"regionId":"cn-hangzhou","instanceIds":["` + stopped + `","` + locked + `","` + running + `"],"batchOptimization":"AllTogether"}`,
			map[string]want{locked: {hresult.Failed, "InstanceLockedForSecurity", []string{"locked for security reasons"}, "lock"}, running: already,
				stopped: partner("InstanceLockedForSecurity", locked+", which is locked for security")}},
		{"a dry run",
			`{"regionId":"cn-hangzhou","instanceIds":["` + stopped + `","` + running + `","` + notThere + `"],"batchOptimization":"AllTogether","dryRun":true}`,
			map[string]want{notThere: {hresult.Failed, hresult.CodeNotFound, []string{"does not know"}, "check the instance ID"},
				running: {hresult.AlreadyRunning, "200", []string{"a real run would do nothing"}, ""},
				stopped: {hresult.Failed, hresult.CodeNotFound, []string{"a real run would not start it: started all together with " + notThere + ", which does not exist"}, "or start with SuccessFirst"}}},
	}
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	carriers := []struct {
		name string
		wrap func(req string) []byte
	}{
		{"direct", func(req string) []byte { return []byte(req) }},
		{"http", func(req string) []byte { return httpEvent(req, bearer(), nil) }},
		{"timer", timerEvent},
		{"batch", func(req string) []byte {
			return []byte(`[` + req + `,{"regionId":"cn-hangzhou","instanceIds":["i-bp1runningdemo001"]}]`)
		}},
	}
	for _, tc := range cases {
		for _, c := range carriers {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				h.ECS.ResetCalls()
				out := invoke(t, h, c.wrap(tc.request))
				var r hresult.Result
				if c.name == "http" {
					r = httpResult(t, out).Result
				} else {
					r = result(t, out)
				}
				got := outcomes(r)
				for id, w := range tc.want {
					ir := got[id]
					if ir.Outcome != w.outcome || ir.Code != w.code || !strings.Contains(ir.Advice, w.advice) {
						t.Errorf("%s: %s %s %q (advice %q), want %s %s (advice with %q)", id, ir.Outcome, ir.Code, ir.Message, ir.Advice, w.outcome, w.code, w.advice)
					}
					for _, s := range w.message {
						if !strings.Contains(ir.Message, s) {
							t.Errorf("%s: message %q lacks %q", id, ir.Message, s)
						}
					}
					if id != notThere && id != gone2 && strings.Contains(ir.Message, "does not exist.") {
						t.Errorf("%s: told that it does not exist: %q", id, ir.Message)
					}
				}
				describes := 0
				for _, call := range h.ECS.Calls() {
					if len(call.Started) > 0 {
						t.Errorf("started %v: %+v", call.Started, call)
					}
					if call.Action == "DescribeInstances" && slices.Contains(call.InstanceIDs, stopped) {
						describes++
					}
				}
				if describes != 1 {
					t.Errorf("%d DescribeInstances calls, want one lookup", describes)
				}
				if in, _ := h.ECS.Instance(stopped); in.Status != ecsemu.Stopped {
					t.Fatalf("%s is %s", stopped, in.Status)
				}
			})
		}
	}
}
