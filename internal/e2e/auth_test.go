package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §6 (WEBHOOK_SECRET), through the binary: a signed empty body seen once
// cannot be re-sent within the 300 s window with another query. The query is
// refused with 401 before anything is read of it, and ECS is never called.
func TestSignedEmptyBodyDoesNotAuthorizeTheQuery(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	sig := sign(webhookSecret, "", time.Now().Unix())
	for _, query := range []map[string]string{
		{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0001"},
		{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0002", "InstanceId.2": "i-bp67acfmxazb4p0003"},
		{"InstanceId": `["i-bp67acfmxazb4p0002"]`, "Format": "XML"},
	} {
		a := httpResult(t, invoke(t, h, httpEvent("", sig, query)))
		if a.StatusCode != http.StatusUnauthorized || !strings.Contains(a.Body, "not the query") {
			t.Fatalf("%v: %d %s", query, a.StatusCode, a.Body)
		}
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls for requests the signature did not cover", n)
	}
	// The same query is fine when a bearer covers it.
	a := httpResult(t, invoke(t, h, httpEvent("", bearer(), map[string]string{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0001"})))
	if a.StatusCode != http.StatusOK {
		t.Fatalf("bearer: %d %s", a.StatusCode, a.Body)
	}
}
