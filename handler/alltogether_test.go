package handler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// orders returns every order of msgs (up to 3 messages: 6 orders).
func orders(msgs []events.Message) [][]events.Message {
	if len(msgs) <= 1 {
		return [][]events.Message{msgs}
	}
	var out [][]events.Message
	for i := range msgs {
		rest := append(append([]events.Message(nil), msgs[:i]...), msgs[i+1:]...)
		for _, o := range orders(rest) {
			out = append(out, append([]events.Message{msgs[i]}, o...))
		}
	}
	return out
}

// outcomeSet renders a result's outcomes by pair, sorted: order-independent.
func outcomeSet(res *result.Result) string {
	var parts []string
	for _, ir := range res.InstanceResponses.InstanceResponse {
		parts = append(parts, fmt.Sprintf("%s/%s=%s:%s", ir.RegionID, ir.InstanceID, ir.Outcome, ir.Code))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func at(src string, dry bool, list ...string) events.Message {
	return msg(src, events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: list, BatchOptimization: "AllTogether", DryRun: dry})
}

func sf(src string, dry bool, list ...string) events.Message {
	return msg(src, events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: list, DryRun: dry})
}

// DESIGN §4: AllTogether is all or nothing for the request that asks for it,
// whatever else the batch holds, in every order of the batch.
func TestAllTogetherIsAllOrNothingWhateverElseTheBatchHolds(t *testing.T) {
	const n, a, b = "i-missing0001", "i-partner0001", "i-partner0002" // n is unknown to ECS: any call naming it fails whole
	cases := []struct {
		name string
		msgs []events.Message
		want string
	}{
		{"a SuccessFirst request names a partner", []events.Message{sf("s", false, n), at("t", false, n, a)},
			"cn-hangzhou/i-missing0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0001=Failed:InvalidInstanceIds.NotFound"},
		{"two AllTogether requests overlap", []events.Message{at("t1", false, n, a), at("t2", false, n, b)},
			"cn-hangzhou/i-missing0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0002=Failed:InvalidInstanceIds.NotFound"},
		{"a chain of overlaps is one group", []events.Message{at("t1", false, a, n), at("t2", false, n, b), sf("s", false, b)},
			"cn-hangzhou/i-missing0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0002=Failed:InvalidInstanceIds.NotFound"},
		{"a dry run of a partner changes nothing", []events.Message{sf("d", true, n), at("t", false, n, a)},
			"cn-hangzhou/i-missing0001=Failed:InvalidInstanceIds.NotFound cn-hangzhou/i-partner0001=Failed:InvalidInstanceIds.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range orders(tc.msgs) {
				fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, b}))
				f := fl.ECS()
				h, _ := testHandler(t, nil, f)
				res := h.run(context.Background(), testInvocation(h), order, time.Time{})
				if got := outcomeSet(res); got != tc.want {
					t.Fatalf("order %s: %s, want %s", sources(order), got, tc.want)
				}
				for _, c := range f.Calls() {
					if !c.DryRun && (c.BatchOptimization != ecsapi.AllTogether || !slices.Contains(c.InstanceIDs, n)) {
						t.Fatalf("order %s: a partner was started without the others: %+v", sources(order), c)
					}
				}
				if fl.Status[a] != "Stopped" || fl.Status[b] != "Stopped" {
					t.Fatalf("order %s: a partner of a failed AllTogether call started", sources(order))
				}
			}
		})
	}
}

func sources(msgs []events.Message) string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Source)
	}
	return strings.Join(s, ",")
}

// DESIGN §4: when policy denies one instance of an AllTogether request, the
// whole request is Rejected (Forbidden.NotAllowed), partners of overlapping
// requests too; nothing of it is sent.
func TestPolicyDenyingOneMemberRejectsTheWholeAllTogetherGroup(t *testing.T) {
	const a, b, d = "i-allowed0001", "i-allowed0002", "i-denied00001"
	for _, tc := range []struct {
		name string
		env  map[string]string
		tags map[string]map[string]string
	}{
		{"ALLOWED_INSTANCE_IDS", map[string]string{"ALLOWED_INSTANCE_IDS": a + "," + b}, nil},
		{"ALLOWED_TAG", map[string]string{"ALLOWED_TAG": "start=yes"}, map[string]map[string]string{a: {"start": "yes"}, b: {"start": "yes"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range orders([]events.Message{at("t1", false, a, b), at("t2", false, b, d)}) {
				fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, b, d}))
				for id, tags := range tc.tags {
					fl.Tags[id] = tags
				}
				f := fl.ECS()
				h, _ := testHandler(t, tc.env, f)
				res := h.run(context.Background(), testInvocation(h), order, time.Time{})
				for _, ir := range res.InstanceResponses.InstanceResponse {
					if ir.Outcome != result.Rejected || ir.Code != result.CodeNotAllowed {
						t.Fatalf("order %s: %+v", sources(order), ir)
					}
				}
				if len(res.InstanceResponses.InstanceResponse) != 3 || len(f.Calls()) != 0 {
					t.Fatalf("order %s: %d results, calls %+v", sources(order), len(res.InstanceResponses.InstanceResponse), f.Calls())
				}
			}
		})
	}
	// A SuccessFirst request is policy per instance: its allowed instance starts.
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{a, d}))
	h, _ := testHandler(t, map[string]string{"ALLOWED_INSTANCE_IDS": a}, fl.ECS())
	res := h.run(context.Background(), testInvocation(h), []events.Message{sf("s", false, a, d)}, time.Time{})
	if got := byID(res); got[a].Outcome != result.Started || got[d].Code != result.CodeNotAllowed {
		t.Fatalf("%+v", got)
	}
}

// DESIGN §4: overlapping AllTogether requests form one group of at most 100;
// the request that would pass it is refused (its own instances Rejected,
// InvalidParameter) and the earlier group starts together.
func TestOverlappingAllTogetherGroupsHoldAtMost100(t *testing.T) {
	first := ecsapitest.IDs(60, "g")
	second := append([]string{first[0]}, ecsapitest.IDs(50, "h")...) // 60 + 50 = 110 together
	all := append(append([]string(nil), first...), second[1:]...)
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(all))
	f := fl.ECS()
	h, _ := testHandler(t, nil, f)
	res := h.run(context.Background(), testInvocation(h), []events.Message{at("t1", false, first...), at("t2", false, second...)}, time.Time{})
	got := byID(res)
	for _, id := range first {
		if got[id].Outcome != result.Started {
			t.Fatalf("%s: %+v", id, got[id])
		}
	}
	for _, id := range second[1:] {
		if got[id].Outcome != result.Rejected || got[id].Code != result.CodeInvalidParameter || !strings.Contains(got[id].Message, "over 100") {
			t.Fatalf("%s: %+v", id, got[id])
		}
	}
	if c := f.Calls(); len(c) != 1 || len(c[0].InstanceIDs) != 60 || c[0].BatchOptimization != ecsapi.AllTogether {
		t.Fatalf("calls %+v", c)
	}
}

// DESIGN §4: a real start wins over a dry run, also inside AllTogether: a dry
// run AllTogether request loses the member a real request names, and never
// starts the others.
func TestDryRunAllTogetherBesideARealStart(t *testing.T) {
	const n, a = "i-shared00001", "i-dryonly0001"
	for _, order := range orders([]events.Message{at("dry", true, n, a), sf("real", false, n)}) {
		fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{n, a}))
		f := fl.ECS()
		h, _ := testHandler(t, nil, f)
		res := h.run(context.Background(), testInvocation(h), order, time.Time{})
		if got := outcomeSet(res); got != "cn-hangzhou/i-dryonly0001=DryRunPassed:DryRunOperation cn-hangzhou/i-shared00001=Started:200" {
			t.Fatalf("order %s: %s", sources(order), got)
		}
		for _, c := range f.Calls() {
			if slices.Contains(c.InstanceIDs, a) && !c.DryRun {
				t.Fatalf("order %s: a dry-run instance was started: %+v", sources(order), c)
			}
		}
	}
}
