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
// from a timer or a direct invoke it is an Ignored entry that names the
// unknown fields, logged at ERROR as an operator mistake (DESIGN §9). Nothing
// is sent in any case.
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
		seen := false
		for _, rec := range recs {
			if rec["msg"] == "ignored" && rec["level"] == "ERROR" && rec["mistake"] == true {
				seen = true
			}
		}
		if !seen {
			t.Errorf("%s: no ERROR ignored line with mistake: %v", payload, recs)
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

// DESIGN §9, operator mistakes, through the binary: from a timer, a direct
// invoke or a queue message, an event that is not a start request, a request
// with unknown fields, or a timer's tag selection that finds nothing is an
// operator mistake: its line is at ERROR with mistake true, and the answer's
// Summary and the summary line count Mistakes. Over HTTP the same body stays
// a 400, not a mistake line.
func TestOperatorMistakesFromEveryTrigger(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret, "DEFAULT_REGION_ID": "cn-hangzhou"}, ecsemu.Options{})
	now := time.Now().UTC()
	timer := func(payload string) []byte {
		return mustJSON(map[string]any{"triggerTime": now.Format(time.RFC3339), "triggerName": "morning", "payload": payload})
	}
	mns := mustJSON(map[string]any{"id": "m-1", "source": "MNS-q", "specversion": "1.0", "type": "mns:Queue:SendMessage",
		"subject": "acs:mns:cn-hangzhou:1234567890123456:queues/start-ecs", "time": now.Format(time.RFC3339),
		"aliyunregionid": "cn-hangzhou", "data": map[string]any{"messageId": "M1", "messageBody": "start the dev boxes please"}})
	for name, payload := range map[string][]byte{
		"timer typo instanceID":      timer(`{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`),
		"direct unknown field":       []byte(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"dryrun":true}`),
		"mns body not a request":     mns,
		"timer tags finding nothing": timer(`{"regionId":"cn-hangzhou","tags":[{"key":"team","value":"nobody"}]}`),
	} {
		out := invoke(t, h, payload)
		r := result(t, out)
		if r.Summary.Mistakes < 1 {
			t.Errorf("%s: Summary.Mistakes %d: %+v", name, r.Summary.Mistakes, r)
		}
		var line, summary bool
		for _, rec := range h.Fn.Records(out.RequestID) {
			switch rec["msg"] {
			case "ignored", "instance":
				line = line || (rec["level"] == "ERROR" && rec["mistake"] == true)
			case "summary":
				summary = rec["mistakes"] == float64(r.Summary.Mistakes)
			}
		}
		if !line || !summary {
			t.Errorf("%s: ERROR line with mistake %v, summary line counts them %v: %v", name, line, summary, h.Fn.Records(out.RequestID))
		}
	}
	// HTTP answers the caller: 400, as before.
	a := httpResult(t, invoke(t, h, httpEvent(`{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`, bearer(), nil)))
	if a.StatusCode != http.StatusBadRequest {
		t.Errorf("HTTP typo: %d %s, want 400", a.StatusCode, a.Body)
	}
	if n := len(h.ECS.Calls()); n > 1 {
		t.Errorf("%d ECS calls: only the tag lookup was to be sent", n)
	}
}
