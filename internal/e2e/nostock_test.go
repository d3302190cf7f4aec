package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// DESIGN §9, out of stock: an instance stopped in economical mode whose zone
// is out of stock is retried with backoff within the deadline — capacity
// comes back — in both batch modes, and ends Unfinished with Code
// OperationDenied.NoStock and its advice when the deadline comes, so that
// FC's retries (an UnfinishedError naming the instance) and HTTP's 503 take
// over instead of a silent Failed.
func TestNoStockThroughTheBinary(t *testing.T) {
	t.Parallel()
	const zone = "cn-hangzhou-k"
	fl := fleet(t)
	eco := func(n int) string { return fmt.Sprintf("i-bpeconomy%05d", n) }
	for n := range 9 {
		fl.Instances = append(fl.Instances, ecsemu.Instance{InstanceID: eco(n), RegionID: "cn-hangzhou", ZoneID: zone,
			Status: ecsemu.Stopped, StoppedMode: "StopCharging"})
	}
	h := startWith(t, fl, map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": "2s"}, ecsemu.Options{})
	body := func(batch string, ids ...string) string {
		return string(mustJSON(map[string]any{"regionId": "cn-hangzhou", "instanceIds": ids, "batchOptimization": batch}))
	}
	n := 0
	for _, batch := range []string{"SuccessFirst", "AllTogether"} {
		// Not parallel: the zone's stock is shared by the cases.
		t.Run(batch+"/stock returns within the deadline", func(t *testing.T) {
			a, b := eco(n), eco(n+1)
			n += 2
			const back = 2 * time.Second
			h.ECS.SellOut(zone, time.Now().Add(back))
			defer h.ECS.RestoreStock(zone)
			out := invoke(t, h, timerEvent(body(batch, a, b)), func(i *fcemu.Invocation) { i.Timeout = 15 * time.Second })
			if out.IsError {
				t.Fatalf("%s %.300s", out.ErrorType, out.ErrorMessage)
			}
			got := outcomes(result(t, out))
			for _, id := range []string{a, b} {
				if got[id].Outcome != hresult.Started {
					t.Errorf("%s: %+v, want Started once stock returned", id, got[id])
				}
			}
			if out.Duration < back || out.Duration > 15*time.Second {
				t.Errorf("answered after %s; stock returned after %s", out.Duration, back)
			}
			t.Logf("%s: Started after %s, stock back after %s", batch, out.Duration.Round(10*time.Millisecond), back)
		})
		t.Run(batch+"/stock does not return: timer", func(t *testing.T) {
			a, b := eco(n), eco(n+1)
			n += 2
			h.ECS.SellOut(zone, time.Time{})
			defer h.ECS.RestoreStock(zone)
			const deadline = 4 * time.Second
			out := invoke(t, h, timerEvent(body(batch, a, b)), func(i *fcemu.Invocation) { i.Timeout = deadline })
			if !out.IsError || out.ErrorType != "UnfinishedError" ||
				!strings.Contains(out.ErrorMessage, a+" ("+hresult.CodeNoStock+")") {
				t.Fatalf("want an UnfinishedError naming %s (%s): %v %s %.400s", a, hresult.CodeNoStock, out.IsError, out.ErrorType, out.ErrorMessage)
			}
			if out.Duration >= deadline {
				t.Errorf("answered after %s: past the %s deadline", out.Duration, deadline)
			}
			starts := 0
			for _, c := range h.ECS.Calls() {
				if c.Action == "StartInstances" && c.InstanceIDs[0] == a {
					starts++
				}
			}
			if starts < 3 {
				t.Errorf("%d StartInstances calls for %s: out of stock must be retried until the deadline", starts, a)
			}
			t.Logf("%s: UnfinishedError after %s (deadline %s), %d calls", batch, out.Duration.Round(10*time.Millisecond), deadline, starts)
		})
	}
	t.Run("stock does not return: HTTP", func(t *testing.T) {
		a := eco(n)
		h.ECS.SellOut(zone, time.Time{})
		defer h.ECS.RestoreStock(zone)
		ans := httpResult(t, invoke(t, h, httpEvent(body("SuccessFirst", a), bearer(), nil), func(i *fcemu.Invocation) { i.Timeout = 10 * time.Second }))
		if ans.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%d %s, want 503", ans.StatusCode, ans.Body)
		}
		ir := outcomes(ans.Result)[a]
		if ir.Outcome != hresult.Unfinished || ir.Code != hresult.CodeNoStock || !ir.Retryable || ir.Advice != hresult.Advice(hresult.CodeNoStock) {
			t.Fatalf("%s: %+v, want Unfinished, %s, with its advice", a, ir, hresult.CodeNoStock)
		}
	})
}
