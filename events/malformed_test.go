package events

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Payloads that name nothing are one Ignored message with a clear reason; none
// panics, and no reason quotes the payload.
func TestDecodeMalformed(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const secret = "s3cr3t-body-text"
	tests := []struct {
		name    string
		payload string
		trigger Trigger
		ignored string
	}{
		{"empty", "", Direct, ReasonEmptyPayload},
		{"blank", " \n\t", Direct, ReasonEmptyPayload},
		{"truncated JSON", `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfm`, Direct, ReasonMalformedJSON},
		{"JSON after a BOM", "\ufeff{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}", Direct, ReasonMalformedJSON},
		{"timer, truncated JSON", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":"{\"instanceIds\":[\"` + secret + `"}`, Timer, ReasonMalformedJSON},
		{"non-JSON bytes", "\x00\xff\xfe" + secret, Direct, ReasonUnknownPayload},
		{"plain text", secret, Direct, ReasonUnknownPayload},
		{"bad base64", "eyJpbnN0YW5jZUlkcyI6W!!!", Direct, ReasonUnknownPayload},
		{"base64 of non-JSON", b64(secret), Direct, ReasonUnknownPayload},
		{"number", "42", Direct, ReasonUnknownPayload},
		{"null", "null", Direct, ReasonUnknownPayload},
		{"empty object", "{}", Direct, ReasonUnknownPayload},
		{"unrelated object", `{"events":[{"eventName":"ObjectCreated:PutObject"}],"note":"` + secret + `"}`, Direct, ReasonUnknownPayload},
		{"empty batch", "[]", Direct, ReasonEmptyBatch},
		{"deep nesting", strings.Repeat("[", 50) + strings.Repeat("]", 50), Direct, ReasonUnknownPayload},
		{"timer, empty payload", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":""}`, Timer, "timer payload is empty"},
		{"timer, no payload", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t"}`, Timer, "timer payload is empty"},
		{"timer, JSON not a request", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":"{\"hello\":\"` + secret + `\"}"}`, Timer, "timer payload is not a start request"},
		{"MNS, body is prose", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"` + secret + `"}}`, MNS, ReasonNotRequest},
		{"MNS, body base64 of prose", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"` + b64(secret) + `"}}`, MNS, ReasonNotRequest},
		{"MNS, empty body", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":""}}`, MNS, ReasonEmptyBody},
		{"MNS, data of the wrong type", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":["m1"],"messageBody":"x"}}`, MNS, "malformed mns event data: field messageId has the wrong type"},
		{"CloudEvent, time of the wrong type", `{"specversion":"1.0","id":"e1","source":"s","type":"mq:Topic:SendMessage","time":{"at":1},"data":{}}`, Direct, "malformed CloudEvent: field time has the wrong type"},
		{"ECS, other event", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Disk:DiskOperationCompleted","data":{}}`, ECSEvent, "ECS event ecs:Disk:DiskOperationCompleted is not a state change"},
		{"ECS, no instance", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"state":"Stopped"}}`, ECSEvent, "ECS state-change event names no instance"},
		{"ECS, no state", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-bp67acfmxazb4p0001"}}`, ECSEvent, "ECS state-change event names no state"},
		{"ECS, state with control characters", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-bp67acfmxazb4p0001","state":"Run\nning"}}`, ECSEvent, "state changed to Run?ning, not Stopped"},
		{"CMS, not an alarm", `{"specversion":"1.0","id":"e1","source":"acs.cloudmonitor","type":"cms:CloudMonitor:AgentStatusStopped","data":{"instanceId":"i-bp67acfmxazb4p0001"}}`, CMSAlarm, "CloudMonitor event cms:CloudMonitor:AgentStatusStopped is not an alarm"},
		{"CMS, insufficient data", `{"alertState":"INSUFFICIENT_DATA","dimensions":"{instanceId=i-bp67acfmxazb4p0001}"}`, CMSAlarm, "alarm state INSUFFICIENT_DATA"},
		{"CMS, not an ECS instance", `{"alertState":"ALERT","dimensions":"{userId=1, instanceId=rm-bp1234567890}"}`, CMSAlarm, "alarm names no ECS instance (no instanceId i-… in its dimensions)"},
		{"CMS, no state", `{"alertState":"","dimensions":"{instanceId=i-bp67acfmxazb4p0001}"}`, CMSAlarm, "alarm state missing"},
	}
	// DESIGN §4: what the operator wrote (a direct payload, a timer's payload)
	// and is not a start request nor a known event carries errors naming its
	// fields; the rest is Ignored without.
	wantErrs := map[string][]string{
		"empty object":              {"instanceIds"},
		"unrelated object":          {"events", "note"},
		"deep nesting":              {strings.Repeat("[0]", 9)},
		"timer, JSON not a request": {"hello"},
		// JSON the operator wrote that does not parse says so.
		"truncated JSON":        {"payload"},
		"JSON after a BOM":      {"payload"},
		"timer, truncated JSON": {"payload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Trigger != tc.trigger || m.Ignored != tc.ignored {
				t.Errorf("trigger %q ignored %q, want %q %q", m.Trigger, m.Ignored, tc.trigger, tc.ignored)
			}
			var fields []string
			for _, e := range m.Errors {
				fields = append(fields, e.Field)
				if strings.Contains(e.Message, secret) {
					t.Errorf("an error quotes the body: %+v", e)
				}
			}
			if len(m.Request.InstanceIDs) != 0 || strings.Join(fields, ",") != strings.Join(wantErrs[tc.name], ",") {
				t.Errorf("an ignored message carries a request or unexpected errors: %+v %+v", m.Request, m.Errors)
			}
			if strings.Contains(m.Ignored, secret) || strings.Contains(m.Source, secret) {
				t.Errorf("the reason or source quotes the body: %+v", m)
			}
		})
	}
}

// Events nested in bodies, and the forms of dimensions.
func TestDecodeNestedAndAlarmForms(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		trigger Trigger
		ids     []string
		region  string
	}{
		{"JSON string holding JSON", `"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"`, Direct, []string{id1}, ""},
		{"Kafka value as an object", `{"specversion":"1.0","id":"k1","source":"acs:alikafka","type":"alikafka:Topic:Message","data":{"topic":"t","partition":0,"offset":1,"value":{"instanceIds":["i-bp67acfmxazb4p0001"]}}}`, Kafka, []string{id1}, ""},
		{"MNS body holding a JSON string holding JSON", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"\"{\\\"instanceIds\\\":[\\\"i-bp67acfmxazb4p0001\\\"]}\""}}`, MNS, []string{id1}, ""},
		{"alarm in an MNS body, JSON dimensions", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"{\"alertState\":\"ALARM\",\"dimensions\":\"[{\\\"userId\\\":\\\"1\\\",\\\"instanceId\\\":\\\"i-bp67acfmxazb4p0001\\\"},{\\\"instanceId\\\":\\\"i-bp67acfmxazb4p0002\\\"}]\"}"}}`, CMSAlarm, []string{id1, id2}, ""},
		{"alarm with object dimensions and a region", `{"alertState":"alert","dimensions":{"instanceId":"i-bp67acfmxazb4p0001","regionId":"cn-shanghai"}}`, CMSAlarm, []string{id1}, "cn-shanghai"},
		{"alarm with several text groups", `{"alertState":"ALERT","dimensions":"{userId=1, instanceId=i-bp67acfmxazb4p0001},{userId=1, instanceId=i-bp67acfmxazb4p0002}"}`, CMSAlarm, []string{id1, id2}, ""},
		{"ECS event as an ARN only", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","subject":"acs:ecs:cn-beijing:1:instance/i-bp67acfmxazb4p0001","data":{"state":"Stopped"}}`, ECSEvent, []string{id1}, "cn-beijing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" || len(m.Errors) > 0 {
				t.Fatalf("ignored %q errors %+v", m.Ignored, m.Errors)
			}
			if m.Trigger != tc.trigger || strings.Join(m.Request.InstanceIDs, ",") != strings.Join(tc.ids, ",") || m.InstanceRegion != tc.region {
				t.Errorf("got trigger %q ids %v region %q, want %q %v %q", m.Trigger, m.Request.InstanceIDs, m.InstanceRegion, tc.trigger, tc.ids, tc.region)
			}
		})
	}
}

// A batch keeps its order and decodes each element on its own: a bad element does
// not spoil the others, and each element's Source tells which it was.
func TestDecodeMixedBatch(t *testing.T) {
	msgs := Decode([]byte(`[{"instanceIds":["i-bp67acfmxazb4p0001"]}, "not json", {"dryRun":"maybe","instanceIds":["i-bp67acfmxazb4p0002"]}, "{\"InstanceId.1\":\"i-bp67acfmxazb4p0003\"}"]`))
	if len(msgs) != 4 {
		t.Fatalf("got %d messages: %+v", len(msgs), msgs)
	}
	if msgs[0].Request.InstanceIDs[0] != id1 || msgs[0].Ignored != "" {
		t.Errorf("0: %+v", msgs[0])
	}
	if msgs[1].Ignored != ReasonUnknownPayload {
		t.Errorf("1: %+v", msgs[1])
	}
	if len(msgs[2].Errors) != 1 || msgs[2].Errors[0].Field != "dryRun" {
		t.Errorf("2: %+v", msgs[2])
	}
	if msgs[3].Request.InstanceIDs[0] != id3 {
		t.Errorf("3: %+v", msgs[3])
	}
	for i, m := range msgs {
		if want := "direct[" + string(rune('0'+i)) + "]"; m.Source != want {
			t.Errorf("%d: source %q, want %q", i, m.Source, want)
		}
	}
}

// JSON the operator wrote that does not parse is reported once, with the byte
// where it breaks: the reason a result or a log line gives (the Ignored
// reason, then each error as "field: message", as the handler joins them)
// says "not valid JSON" one time and "at byte <offset> of <length>", in every
// carrier — a direct payload, a timer's payload, a string element of a batch,
// an HTTP body.
func TestMalformedJSONIsSaidOnceWithTheOffset(t *testing.T) {
	const bad = `{"regionId":"cn-hangzhou","instanceIds":[}`
	var v any
	var se *json.SyntaxError
	if !errors.As(json.Unmarshal([]byte(bad), &v), &se) {
		t.Fatal("the sample parses")
	}
	at := fmt.Sprintf("at byte %d of %d", se.Offset, len(bad))
	reason := func(ignored string, errs []FieldError) string {
		s := ignored
		for _, e := range errs {
			s += ": " + e.Field + ": " + e.Message
		}
		return s
	}
	carriers := map[string]string{
		"direct": bad,
		"timer":  `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(bad) + `}`,
		"batch":  `[` + quoted(bad) + `]`,
	}
	for name, payload := range carriers {
		msgs := Decode([]byte(payload))
		if len(msgs) != 1 || msgs[0].Ignored != ReasonMalformedJSON || len(msgs[0].Errors) != 1 {
			t.Errorf("%s: %+v, want one message Ignored %q with one error", name, msgs, ReasonMalformedJSON)
			continue
		}
		got := reason(msgs[0].Ignored, msgs[0].Errors)
		if n := strings.Count(got, "not valid JSON"); n != 1 || !strings.Contains(got, at) {
			t.Errorf("%s: %q says \"not valid JSON\" %d times, want once with %q", name, got, n, at)
		}
	}
	r, ok, err := ParseHTTP(httpPayload(t, "application/json", bad, false, nil))
	if !ok || err != nil {
		t.Fatalf("ParseHTTP: %v %v", ok, err)
	}
	_, errs := DecodeHTTP(r)
	got := reason("", errs)
	if len(errs) != 1 || strings.Count(got, "not valid JSON") != 1 || !strings.Contains(got, at) {
		t.Errorf("HTTP body: %q, want one error saying \"not valid JSON\" once with %q", got, at)
	}
}
