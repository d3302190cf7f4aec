package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §4, through the binary: where the operator wrote the payload, a JSON
// object that is neither a start request nor a known event is a mistake to be
// seen. Over HTTP it is a 400 naming the fields, and so is an array any element
// of which is not a start request (a bad element beside a good one included);
// from a timer or a direct invoke it is an Ignored entry logged at WARN that
// names the unknown fields. Nothing is sent in any case.
func TestPayloadsThatNameNothingAreRefused(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	good := `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}`

	for _, body := range []string{`{"foo":1}`, `{}`, `[1,2]`, `[{},{"foo":1}]`, `[` + good + `,{"foo":1}]`, `[` + good + `,"text"]`} {
		a := httpResult(t, invoke(t, h, httpEvent(body, bearer(), nil)))
		if a.StatusCode != http.StatusBadRequest || len(a.Error.Errors) == 0 {
			t.Errorf("HTTP %s: %d %s, want 400 naming the fields", body, a.StatusCode, a.Body)
		}
	}

	timer := mustJSON(map[string]any{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "typo",
		"payload": `{"regionID":"cn-hangzhou","instancesToStart":["i-bp67acfmxazb4p0001"]}`})
	for _, payload := range [][]byte{timer, []byte(`{"foo":1,"bar":2}`)} {
		out := invoke(t, h, payload)
		r := result(t, out)
		if len(r.Ignored) != 1 || r.Summary.Requested != 0 {
			t.Fatalf("%s: %+v, want one Ignored entry", payload, r)
		}
		reason := r.Ignored[0].Reason
		recs := h.Fn.Records(out.RequestID)
		warned := false
		for _, rec := range recs {
			if rec["msg"] == "ignored" && rec["level"] == "WARN" {
				warned = true
			}
		}
		if !warned {
			t.Errorf("%s: no WARN ignored line: %v", payload, recs)
		}
		for _, field := range []string{"regionID", "instancesToStart", "foo", "bar"} {
			if strings.Contains(string(payload), `"`+field+`"`) || strings.Contains(string(payload), `\"`+field+`\"`) {
				if !strings.Contains(reason, field) {
					t.Errorf("%s: the reason %q does not name %s", payload, reason, field)
				}
			}
		}
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls for payloads that name nothing", n)
	}
}
