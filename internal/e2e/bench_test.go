package e2e

import (
	"context"
	"encoding/json"
	"testing"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// benchmarkInvoke measures one invocation of the real binary naming n stopped
// instances, through the runtime API emulator and against the ECS emulator
// (signature checks included), from invoke to result.
func benchmarkInvoke(b *testing.B, n int) {
	f := manyStopped(n)
	h := startFleet(b, f, nil)
	payload := mustJSON(map[string]any{"instanceIds": idsOf(f)})
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for _, in := range f.Instances {
			_ = h.ECS.SetInstance(in)
		}
		b.StartTimer()
		out, err := h.FC.Invoke(context.Background(), fcemu.Invocation{Payload: payload})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var r hresult.Result
		if err := json.Unmarshal(out.Payload, &r); err != nil || r.Summary.Started != n {
			b.Fatalf("%v %+v", err, r.Summary)
		}
		b.StartTimer()
	}
}

func BenchmarkInvoke1(b *testing.B)    { benchmarkInvoke(b, 1) }
func BenchmarkInvoke100(b *testing.B)  { benchmarkInvoke(b, 100) }
func BenchmarkInvoke1000(b *testing.B) { benchmarkInvoke(b, 1000) }
