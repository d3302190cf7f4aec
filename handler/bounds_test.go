package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// reportedInstances counts what a result stands for: its instance results and
// the instances its Ignored entries sum up.
func reportedInstances(res *result.Result) int {
	n := len(res.InstanceResponses.InstanceResponse)
	for _, ig := range res.Ignored {
		n += max(len(ig.InstanceIDs), ig.InstanceCount)
	}
	return n
}

// DESIGN §4: the answer and the log stay bounded by MAX_INSTANCES whatever
// the input holds; past it, refused instances are summed up in one Ignored
// entry per request, with the count and the first few IDs.
func TestTooManyInstancesIsOneEntryPerRequest(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, instantECS())
	inv := testInvocation(h)
	res := h.run(context.Background(), inv, []events.Message{msg("big", events.StartRequest{InstanceIDs: ecsapitest.IDs(20000, "t")})}, time.Time{})
	h.flush(inv)
	if len(res.InstanceResponses.InstanceResponse) != 0 || len(res.Ignored) != 1 {
		t.Fatalf("%d results, %d ignored", len(res.InstanceResponses.InstanceResponse), len(res.Ignored))
	}
	ig := res.Ignored[0]
	if ig.Code != result.CodeTooManyInstances || ig.InstanceCount != 20000 || len(ig.InstanceIDs) != plan.MaxListedIDs || ig.InstanceIDs[0] != "i-t000000" {
		t.Fatalf("%+v", ig)
	}
	body, _ := json.Marshal(res)
	if lines := logLines(t, logs); len(body) > 4096 || len(lines) != 2 || lines[0]["level"] != "WARN" || lines[0]["instanceCount"] != float64(20000) {
		t.Fatalf("%d bytes of result, log %v", len(body), lines)
	}
}

// DESIGN §4: many requests past the limit (or invalid ones) make a bounded
// number of entries: past MAX_INSTANCES entries they are summed up in one,
// and nothing is dropped without a trace.
func TestManyRefusedRequestsStayBounded(t *testing.T) {
	const limit, n = 50, 4000
	for _, tc := range []struct {
		name string
		id   func(i int) string
		code string
	}{
		{"past MAX_INSTANCES", func(i int) string { return fmt.Sprintf("i-many%08d", i) }, result.CodeTooManyInstances},
		{"invalid", func(i int) string { return fmt.Sprintf("i-BAD%d", i) }, result.CodeInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "MAX_INSTANCES": fmt.Sprint(limit)}, instantECS())
			msgs := make([]events.Message, n)
			for i := range msgs {
				msgs[i] = msg(fmt.Sprintf("direct[%d]", i), events.StartRequest{InstanceIDs: []string{tc.id(i)}})
			}
			inv := testInvocation(h)
			res := h.run(context.Background(), inv, msgs, time.Time{})
			h.flush(inv)
			if got := reportedInstances(res); got != n {
				t.Fatalf("%d of %d instances reported", got, n)
			}
			if r, ig := len(res.InstanceResponses.InstanceResponse), len(res.Ignored); r > limit || ig > limit+1 {
				t.Fatalf("%d results and %d Ignored entries for MAX_INSTANCES %d", r, ig, limit)
			}
			last := res.Ignored[len(res.Ignored)-1]
			if last.Code != tc.code || !strings.Contains(last.Source, "more") {
				t.Fatalf("the summing entry: %+v", last)
			}
			if lines := strings.Count(logs.String(), "\n"); lines > 2*limit+2 {
				t.Fatalf("%d log lines", lines)
			}
		})
	}
}

// DESIGN §4: planning is linear in the input; one instance named by 20,000
// requests is one result and one log line of bounded size, every source
// counted.
func TestOneInstanceNamedByManyRequests(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, instantECS())
	const n = 20000
	msgs := make([]events.Message, n)
	for i := range msgs {
		msgs[i] = msg(fmt.Sprintf("direct[%d]", i), events.StartRequest{InstanceIDs: []string{"i-same000001"}})
	}
	inv := testInvocation(h)
	res := h.run(context.Background(), inv, msgs, time.Time{})
	h.flush(inv)
	if len(res.InstanceResponses.InstanceResponse) != 1 || res.Summary.Started != 1 {
		t.Fatalf("%+v", res.Summary)
	}
	for _, l := range logLines(t, logs) {
		if l["msg"] != "instance" {
			continue
		}
		srcs, _ := l["sources"].([]any)
		more, _ := l["moreSources"].(float64)
		if len(srcs)+int(more) != n || len(srcs) > plan.MaxKeptSources {
			t.Fatalf("%d sources kept, %v more", len(srcs), l["moreSources"])
		}
	}
	if logs.Len() > 4096 {
		t.Fatalf("%d bytes of log", logs.Len())
	}
}

// DESIGN §4: the work before the first ECS call is bounded by the deadline:
// when it comes during planning, the invocation still answers, and what was
// not planned is Unfinished (retryable), never sent and never lost.
func TestDeadlineDuringPlanningLeavesTheRestUnfinished(t *testing.T) {
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(ecsapitest.IDs(10, "p")))
	f := fl.ECS()
	h, _ := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, f)
	inv := testInvocation(h)
	inv.deadline = time.Now().Add(time.Minute)
	// The planner's clock passes the deadline after four messages.
	var ticks int
	h.now = func() time.Time {
		ticks++
		if ticks > 4 {
			return inv.deadline
		}
		return time.Now()
	}
	list := ecsapitest.IDs(10, "p")
	var msgs []events.Message
	for i, id := range list {
		msgs = append(msgs, msg(fmt.Sprintf("direct[%d]", i), events.StartRequest{InstanceIDs: []string{id}}))
	}
	res := h.run(context.Background(), inv, msgs, time.Time{})
	got := byID(res)
	if len(got) != 10 {
		t.Fatalf("%d of 10 reported: %+v", len(got), res)
	}
	for i, id := range list {
		want := result.Started
		if i >= 4 {
			want = result.Unfinished
		}
		if got[id].Outcome != want {
			t.Fatalf("%s: %+v, want %s", id, got[id], want)
		}
		if want == result.Unfinished && (got[id].Code != result.CodeDeadlineExceeded || !got[id].Retryable) {
			t.Fatalf("%s: %+v", id, got[id])
		}
	}
	if n := len(f.Calls()); n != 1 || len(f.Calls()[0].InstanceIDs) != 4 {
		t.Fatalf("calls %+v", f.Calls())
	}
	if e := unfinishedError(res); !strings.Contains(e.Message, list[9]) {
		t.Fatal(e.Message)
	}
}

// The benchmark of DESIGN §4's linear planning: n one-ID requests, half of
// them naming one instance, the rest distinct (past MAX_INSTANCES).
func benchmarkPlan(b *testing.B, n int) {
	h := New(DefaultConfig(), nil, instantECS(), nil)
	h.cfg.DefaultRegionID = "cn-hangzhou"
	msgs := make([]events.Message, n)
	for i := range msgs {
		id := "i-same000001"
		if i%2 == 1 {
			id = fmt.Sprintf("i-bench%08d", i)
		}
		msgs[i] = msg(fmt.Sprintf("direct[%d]", i), events.StartRequest{InstanceIDs: []string{id}})
	}
	inv := h.newInvocation(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := h.planner().Make(&inv.Invocation, msgs, time.Time{})
		if len(p.Entries) == 0 {
			b.Fatal("nothing planned")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/request")
}

func BenchmarkPlan10k(b *testing.B)  { benchmarkPlan(b, 10_000) }
func BenchmarkPlan40k(b *testing.B)  { benchmarkPlan(b, 40_000) }
func BenchmarkPlan160k(b *testing.B) { benchmarkPlan(b, 160_000) }
