package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
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
func instantECS() *fakeECS {
	return &fakeECS{start: func(in StartInstancesInput) (*StartInstancesOutput, error) {
		out := &StartInstancesOutput{RequestID: "req"}
		for _, id := range in.InstanceIDs {
			out.Responses = append(out.Responses, InstanceResponse{InstanceID: id, Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"})
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
