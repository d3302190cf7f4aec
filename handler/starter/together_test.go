package starter

import (
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// DESIGN §7: "An AllTogether call that ECS refuses for good names no culprit:
// every instance gets the call's Code, but a partner is told the truth about
// itself." One lookup; the culprit keeps ECS's words; a partner that is fine
// is Failed with a message naming the culprits and advice to remove them or
// use SuccessFirst; a partner already Running is AlreadyRunning. Nothing
// starts, on a real run or a dry run.
func TestAllTogetherRefusedForGoodTellsEachPartnerTheTruth(t *testing.T) {
	const (
		run    = "i-run0000001"
		stop   = "i-stop000001"
		gone   = "i-gone000001"
		gone2  = "i-gone000002"
		locked = "i-lock000001"
	)
	type want struct {
		outcome result.Outcome
		code    string
		in      []string // in the Message
		notIn   []string // not in the Message
		advice  string   // in the Advice
	}
	ecsNotFound := want{result.Failed, "InvalidInstanceIds.NotFound", []string{"The specified instance IDs are not found."}, nil, "check the instance ID"}
	partner := func(code string, dry bool, culprits ...string) want {
		lead := "not started: started all together with "
		if dry {
			lead = "a real run would not start it: started all together with "
		}
		return want{result.Failed, code, append([]string{lead}, culprits...), []string{"not found", "does not exist."}, "from the request, or start with SuccessFirst"}
	}
	cases := []struct {
		name string
		ids  []string
		dry  bool
		want map[string]want
	}{
		{"a partner Running and a partner Stopped", []string{stop, run, gone}, false, map[string]want{
			gone: ecsNotFound,
			run:  {result.AlreadyRunning, result.CodeSuccess, []string{"already Running"}, nil, ""},
			stop: partner("InvalidInstanceIds.NotFound", false, gone+", which does not exist in cn-hangzhou"),
		}},
		{"two culprits", []string{gone, stop, gone2}, false, map[string]want{
			gone: ecsNotFound, gone2: ecsNotFound,
			stop: partner("InvalidInstanceIds.NotFound", false, gone+", which does not exist", gone2+", which does not exist"),
		}},
		{"a culprit whose own state refused the call", []string{stop, locked}, false, map[string]want{
			locked: {result.Failed, "InstanceLockedForSecurity", []string{"locked for security reasons"}, nil, "lock"},
			stop:   partner("InstanceLockedForSecurity", false, locked+", which is locked for security"),
		}},
		{"a culprit not found beside a locked one", []string{stop, locked, gone}, false, map[string]want{
			gone:   ecsNotFound,
			locked: {result.Failed, result.CodeLockedForSecurity, []string{"locked for security"}, []string{"not found"}, "lock"},
			stop:   partner("InvalidInstanceIds.NotFound", false, gone+", which does not exist", locked+", which is locked for security"),
		}},
		{"a dry run", []string{stop, run, gone}, true, map[string]want{
			gone: {result.Failed, result.CodeNotFound, []string{"does not know"}, nil, "check the instance ID"},
			run:  {result.AlreadyRunning, result.CodeSuccess, []string{"a real run would do nothing"}, nil, ""},
			stop: partner(result.CodeNotFound, true, gone+", which does not exist"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fl := ecsapitest.NewFleet(map[string]string{run: "Running", stop: "Stopped", locked: "Stopped"})
			fl.Locks[locked] = []string{"security"}
			f := fl.ECS()
			res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: tc.ids, BatchOptimization: ecsapi.AllTogether, DryRun: tc.dry})
			for _, id := range tc.ids {
				ir := outcomeOf(t, res, id)
				w := tc.want[id]
				if ir.Outcome != w.outcome || ir.Code != w.code || !strings.Contains(ir.Advice, w.advice) {
					t.Errorf("%s: %s %s (advice %q), want %s %s (advice with %q)", id, ir.Outcome, ir.Code, ir.Advice, w.outcome, w.code, w.advice)
				}
				for _, s := range w.in {
					if !strings.Contains(ir.Message, s) {
						t.Errorf("%s: message %q lacks %q", id, ir.Message, s)
					}
				}
				for _, s := range w.notIn {
					if strings.Contains(ir.Message, s) {
						t.Errorf("%s: message %q says %q of an instance that exists", id, ir.Message, s)
					}
				}
			}
			if fl.Status[stop] != "Stopped" || fl.Status[locked] != "Stopped" {
				t.Fatalf("an instance was started: %v", fl.Status)
			}
			if got := f.Describes; got != 1 {
				t.Errorf("%d lookups, want one", got)
			}
		})
	}
}

// A refusal that concerns the caller, not an instance, is everybody's, with
// no lookup; one the lookup cannot pin on an instance keeps ECS's code and
// says it may concern another instance of the call.
func TestAllTogetherRefusalWithoutACulprit(t *testing.T) {
	for _, tc := range []struct {
		code, in string
		lookups  int
	}{
		{"Forbidden.RAM", "not authorized", 0},
		{"InvalidInstance.NotFoundSystemDisk", "may concern another instance of the call", 1},
	} {
		t.Run(tc.code, func(t *testing.T) {
			fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-stop000001", "i-stop000002"}))
			f := fl.ECS()
			f.Start = func(ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				return nil, &ecsapi.APIError{HTTPStatus: 403, Code: tc.code, Message: "User not authorized, or no system disk.", RequestID: "req-x"}
			}
			res := runStart(t, f, 5*time.Second, Group{Scope: ecsapi.Scope{Region: "cn-hangzhou"}, InstanceIDs: []string{"i-stop000001", "i-stop000002"}, BatchOptimization: ecsapi.AllTogether})
			for _, id := range []string{"i-stop000001", "i-stop000002"} {
				if ir := outcomeOf(t, res, id); ir.Outcome != result.Failed || ir.Code != tc.code || !strings.Contains(ir.Message, tc.in) {
					t.Errorf("%s: %+v", id, ir)
				}
			}
			if f.Describes != tc.lookups {
				t.Errorf("%d lookups, want %d", f.Describes, tc.lookups)
			}
		})
	}
}
