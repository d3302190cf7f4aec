package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/notify"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// benchPayload is a direct invoke naming n instances.
func benchPayload(n int) []byte {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-bench%08d", i)
	}
	b, _ := json.Marshal(map[string]any{"regionId": "cn-hangzhou", "instanceIds": ids})
	return b
}

// instantECS answers every start at once with success: the benchmark measures
// the function's own work (decode, validate, plan, chunk, result, log lines).
func instantECS() *ecsapitest.ECS {
	return &ecsapitest.ECS{Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		out := &ecsapi.StartInstancesOutput{RequestID: "req"}
		for _, id := range in.InstanceIDs {
			out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"})
		}
		return out, nil
	}}
}

func benchmarkHandle(b *testing.B, n int) {
	cfg := DefaultConfig()
	cfg.MaxInstances = max(cfg.MaxInstances, n)
	h := New(cfg, nil, instantECS(), io.Discard)
	payload := benchPayload(n)
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "bench",
		Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := h.Handle(ctx, payload)
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/instance")
}

func BenchmarkHandle1(b *testing.B)    { benchmarkHandle(b, 1) }
func BenchmarkHandle100(b *testing.B)  { benchmarkHandle(b, 100) }
func BenchmarkHandle1000(b *testing.B) { benchmarkHandle(b, 1000) }

func BenchmarkHandle10000(b *testing.B) { benchmarkHandle(b, 10000) }

// BenchmarkValidate checks one start request of 100 IDs (DESIGN §3).
func BenchmarkValidate(b *testing.B) {
	req := events.StartRequest{RegionID: "cn-hangzhou", BatchOptimization: "AllTogether", NotAfter: "2026-11-26T09:00:00Z", InstanceIDs: ecsapitest.IDs(100, "v")}
	b.ReportAllocs()
	for b.Loop() {
		if errs := plan.Validate(req); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// benchmarkResult is result assembly: n instances' results counted and
// marshalled into the answer the caller gets.
func benchmarkResult(b *testing.B, n int) {
	list := make([]result.InstanceResult, n)
	for i := range list {
		list[i] = result.InstanceResult{InstanceID: fmt.Sprintf("i-bench%08d", i), RegionID: "cn-hangzhou", Code: "200", Message: "success",
			PreviousStatus: "Stopped", CurrentStatus: "Starting", Outcome: result.Started, EcsRequestID: "6D3B2B2A-0C3B-4A3B-9C3B-0C3B4A3B9C3B"}
	}
	b.ReportAllocs()
	for b.Loop() {
		res := &result.Result{RequestID: "bench", Ignored: []result.IgnoredEvent{}}
		res.InstanceResponses.InstanceResponse = list
		res.Summarize()
		if out, err := json.Marshal(res); err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/instance")
}

func BenchmarkResult1000(b *testing.B) { benchmarkResult(b, 1000) }

// benchmarkLog is log writing: the log lines of n started instances and the
// summary, written to a discarding output.
func benchmarkLog(b *testing.B, n int) {
	h := New(DefaultConfig(), nil, instantECS(), io.Discard)
	h.cfg.DefaultRegionID = "cn-hangzhou"
	h.cfg.MaxInstances = max(h.cfg.MaxInstances, n)
	inv := h.newInvocation(context.Background())
	p := h.planner().Make(&inv.Invocation, []events.Message{msg("direct", events.StartRequest{InstanceIDs: ecsapitest.IDs(n, "l")})}, time.Time{})
	res := &result.Result{RequestID: "bench"}
	for _, e := range p.Entries {
		e.Result = &result.InstanceResult{InstanceID: e.ID, RegionID: e.Scope.Region, Code: "200", Message: "success", PreviousStatus: "Stopped",
			CurrentStatus: "Starting", Outcome: result.Started, EcsRequestID: "6D3B2B2A-0C3B-4A3B-9C3B-0C3B4A3B9C3B"}
		res.InstanceResponses.InstanceResponse = append(res.InstanceResponses.InstanceResponse, *e.Result)
	}
	if len(p.Entries) != n {
		b.Fatalf("%d entries planned, want %d", len(p.Entries), n)
	}
	res.Summarize()
	b.ReportAllocs()
	for b.Loop() {
		h.logResult(inv, p, res)
		h.flush(inv)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/line")
}

func BenchmarkLog1000(b *testing.B) { benchmarkLog(b, 1000) }

// BenchmarkHandle1SDK is BenchmarkHandle1 through the real SDK adapter and
// an ECS emulator in this process (signature checked, one kept-alive
// connection): the warm path of one invocation but for the runtime API.
// Its CPU profile (-cpuprofile) splits the time between the handler, the
// SDK and the emulator.
func BenchmarkHandle1SDK(b *testing.B) {
	const id = "i-bench00000000"
	in := ecsemu.Instance{InstanceID: id, RegionID: "cn-hangzhou", Status: ecsemu.Stopped}
	srv := ecsemu.New(ecsemu.Options{Fleet: ecsemu.Fleet{Instances: []ecsemu.Instance{in}}, StartDelay: -1,
		Credentials: []ecsemu.Credential{{AccessKeyID: "ak", AccessKeySecret: "sk"}}})
	srv.Start()
	defer srv.Close()
	e, err := aliyun.NewECS(aliyun.Options{Endpoint: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	h := New(DefaultConfig(), nil, e, io.Discard)
	payload := benchPayload(1)
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "bench",
		Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
	b.ReportAllocs()
	for b.Loop() {
		if err := srv.SetInstance(in); err != nil {
			b.Fatal(err)
		}
		out, err := h.Handle(ctx, payload)
		if err != nil || !strings.Contains(string(out), `"Started":1`) {
			b.Fatalf("%v %s", err, out)
		}
	}
}

// benchmarkNotify is benchmarkHandle(1) with NOTIFY_ON=always and, when
// robot, a signed DingTalk robot in this process that takes every message
// at once: the per-invocation cost of telling people (DESIGN §9) — the
// message built, rendered, signed and posted, one keep-alive round trip.
// Beside ns/op it reports cpu-ns/op, the process's user and system CPU
// (getrusage) per invocation, which counts the robot's side of the round
// trip too: an upper bound of the function's own.
func benchmarkNotify(b *testing.B, robot bool) {
	cfg := DefaultConfig()
	cfg.NotifyOn = notify.OnAlways
	if robot {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		defer srv.Close()
		targets, err := notify.ParseURLs("dingtalk=" + srv.URL + "/robot/send?access_token=bench#SECbench")
		if err != nil {
			b.Fatal(err)
		}
		cfg.NotifyTargets = targets
	}
	h := New(cfg, nil, instantECS(), io.Discard)
	payload := benchPayload(1)
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "bench",
		Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Handle(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkHandleNotifyOff(b *testing.B) { benchmarkNotify(b, false) }
func BenchmarkHandleNotifyOn(b *testing.B)  { benchmarkNotify(b, true) }
