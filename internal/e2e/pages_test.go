package e2e

import (
	"net/http"
	"strings"
	"testing"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §3.1 tags: at most ⌈MAX_INSTANCES/100⌉ + 2 DescribeInstances pages;
// an ECS that keeps answering pages past that ends the selection: nothing of
// it starts, it is one Ignored entry with Code TooManyPages naming the region
// and the tags, and the invocation fails as an Unfinished one does (503 over
// HTTP, an error from a timer). Before: 19,111 calls in 5 s.
func TestEndlessTagPagesEndTheSelection(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret, "MAX_INSTANCES": "250"}, ecsemu.Options{})
	const req = `{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev"}]}`
	check := func(t *testing.T) {
		t.Helper()
		pages := 0
		for _, c := range h.ECS.Calls() {
			switch {
			case c.Action == "DescribeInstances":
				pages++
			case len(c.Started) > 0:
				t.Errorf("started %v", c.Started)
			}
		}
		if pages != 5 {
			t.Errorf("%d DescribeInstances pages, want ⌈250/100⌉+2 = 5", pages)
		}
	}
	h.ECS.SetFaults(ecsemu.Faults{EndlessPages: true})
	t.Run("http", func(t *testing.T) {
		h.ECS.ResetCalls()
		a := httpResult(t, invoke(t, h, httpEvent(req, bearer(), nil)))
		if a.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
		ig := a.Result.Ignored
		if len(ig) != 1 || ig[0].Code != hresult.CodeTooManyPages || !strings.Contains(ig[0].Reason, "env=dev") || !strings.Contains(ig[0].Reason, "cn-hangzhou") {
			t.Fatalf("ignored %+v", ig)
		}
		if n := len(a.Result.InstanceResponses.InstanceResponse); n != 0 {
			t.Errorf("%d instances reported, want none", n)
		}
		check(t)
	})
	t.Run("timer", func(t *testing.T) {
		h.ECS.ResetCalls()
		out := invoke(t, h, timerEvent(req))
		if !out.IsError || !strings.Contains(out.ErrorMessage, hresult.CodeTooManyPages) {
			t.Fatalf("want an error naming %s: %v %s %.300s", hresult.CodeTooManyPages, out.IsError, out.ErrorType, out.ErrorMessage)
		}
		check(t)
	})
}
