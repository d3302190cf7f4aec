package events

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// DESIGN §5: a payload is JSON exactly when encoding/json says so. The white
// space JSON allows (space, tab, line feed, carriage return) may wrap it; any
// other (U+00A0, U+0085, \f, \v, a byte order mark) makes it no JSON, in every
// carrier, so that what runs is what json.Valid — and any gateway that checks
// with it — saw.
func TestPayloadIsJSONExactlyWhenEncodingJSONSaysSo(t *testing.T) {
	const req = `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]}`
	carriers := []struct {
		name string
		wrap func(body string) string
	}{
		{"direct", func(b string) string { return b }},
		{"direct, a JSON string", quoted},
		{"timer payload", func(b string) string {
			return `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(b) + `}`
		}},
		{"timer payload, base64", func(b string) string {
			return `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(base64.StdEncoding.EncodeToString([]byte(b))) + `}`
		}},
		{"MNS queue body", func(b string) string {
			return `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + quoted(b) + `}}`
		}},
		{"Kafka value", func(b string) string {
			return `{"specversion":"1.0","id":"e1","source":"s","type":"alikafka:Topic:Message","data":{"topic":"t","partition":0,"offset":1,"value":` + quoted(b) + `}}`
		}},
		{"RocketMQ body in a batch", func(b string) string {
			return `[{"specversion":"1.0","id":"e1","source":"s","type":"mq:Topic:SendMessage","data":{"topic":"t","systemProperties":{},"body":` + quoted(b) + `}}]`
		}},
		{"MNS topic Message", func(b string) string {
			return `{"TopicOwner":"1","TopicName":"t","MessageId":"m","Message":` + quoted(b) + `}`
		}},
	}
	jsonSpace := []string{" ", "\t", "\n", "\r\n", " \t\r\n "}
	stray := []string{"\u00a0", "\u0085", "\f", "\v", "\ufeff", "\u2028", "\u3000"}
	for _, c := range carriers {
		for _, ws := range jsonSpace {
			for _, body := range []string{ws + req, req + ws, ws + req + ws} {
				if !json.Valid([]byte(body)) {
					t.Fatalf("%q: the test's premise is wrong", body)
				}
				msgs := Read([]byte(c.wrap(body))).Messages
				if len(msgs) != 1 || msgs[0].Ignored != "" || len(msgs[0].Errors) > 0 || !slices.Equal(msgs[0].Request.InstanceIDs, []string{id1}) {
					t.Errorf("%s, %q around it: %+v, want the request", c.name, ws, msgs)
				}
			}
		}
		for _, ws := range stray {
			for _, body := range []string{ws + req, req + ws} {
				if json.Valid([]byte(body)) {
					t.Fatalf("%q: the test's premise is wrong", body)
				}
				for _, m := range Read([]byte(c.wrap(body))).Messages {
					if len(m.Request.InstanceIDs) > 0 || m.Ignored == "" {
						t.Errorf("%s, %q around it: %+v, want it Ignored as no JSON", c.name, ws, m)
					}
				}
			}
		}
	}

	// Over HTTP, whatever the content type.
	for _, ct := range []string{"application/json", "text/plain", ""} {
		for _, ws := range jsonSpace {
			r, _, _ := ParseHTTP(httpPayload(t, ct, ws+req+ws, false, nil))
			if msgs, errs := DecodeHTTP(r); len(errs) > 0 || len(msgs) != 1 || len(msgs[0].Errors) > 0 || len(msgs[0].Request.InstanceIDs) != 1 {
				t.Errorf("HTTP %s, %q around the body: %+v %+v, want the request", ct, ws, msgs, errs)
			}
		}
		for _, ws := range stray {
			for _, body := range []string{ws + req, req + ws} {
				r, _, _ := ParseHTTP(httpPayload(t, ct, body, false, nil))
				msgs, errs := DecodeHTTP(r)
				if len(errs) != 1 || errs[0].Field != "body" || len(msgs) > 0 {
					t.Errorf("HTTP %s, %q around the body: %+v %+v, want a 400 naming the body", ct, ws, msgs, errs)
				}
			}
		}
	}

	// What the operator wrote is refused with a reason that names the stray
	// character, never quoting the payload.
	for _, ws := range stray[:4] {
		msgs := Decode([]byte(ws + req))
		if len(msgs) != 1 || msgs[0].Ignored != ReasonMalformedJSON || len(msgs[0].Errors) != 1 {
			t.Fatalf("direct, %q before it: %+v, want %q with an error", ws, msgs, ReasonMalformedJSON)
		}
		if got := msgs[0].Errors[0].Message; !strings.Contains(got, "JSON does not take for white space") {
			t.Errorf("direct, %q before it: %q, want it to say which character is not JSON's white space", ws, got)
		}
	}
}
