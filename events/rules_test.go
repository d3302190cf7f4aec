package events

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"
)

// errFields lists the Field of each error.
func errFields(errs []FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

// hasErr reports whether errs has one on field whose message holds part.
func hasErr(errs []FieldError, field, part string) bool {
	for _, e := range errs {
		if e.Field == field && strings.Contains(e.Message, part) {
			return true
		}
	}
	return false
}

// DESIGN §5: a key given twice in one JSON object of a start request is invalid;
// the request is refused whole and the error names the key. Never is one of the
// values picked: every ID of both occurrences stays in the request, so that each
// is reported Rejected.
func TestDuplicateKeyRefusesRequest(t *testing.T) {
	const dupIDs = `{"instanceIds":["i-bp67acfmxazb4p0001"],"instanceIds":["i-bp67acfmxazb4p0002"]}`
	b64 := base64.StdEncoding.EncodeToString([]byte(dupIDs))
	cases := []struct {
		name    string
		payload string
		field   string
		ids     []string
	}{
		{"instanceIds twice", dupIDs, "instanceIds", []string{id1, id2}},
		{"Action twice, both StartInstances", `{"Action":"StartInstances","Action":"StartInstances","InstanceId.1":"i-bp67acfmxazb4p0001"}`, "Action", []string{id1}},
		{"regionId twice", `{"regionId":"cn-hangzhou","regionId":"cn-beijing","instanceIds":["i-bp67acfmxazb4p0001"]}`, "regionId", []string{id1}},
		{"InstanceId.1 twice", `{"InstanceId.1":"i-bp67acfmxazb4p0001","InstanceId.1":"i-bp67acfmxazb4p0002"}`, "InstanceId.1", []string{id1, id2}},
		{"the same key spelled with an escape", `{"instanceIds":["i-bp67acfmxazb4p0001"],"instance\u0049ds":["i-bp67acfmxazb4p0002"]}`, "instanceIds", []string{id1, id2}},
		{"dryRun twice", `{"instanceIds":["i-bp67acfmxazb4p0001"],"dryRun":true,"dryRun":false}`, "dryRun", []string{id1}},
		{"a nested object", `{"instanceIds":["i-bp67acfmxazb4p0001"],"extra":{"a":1,"a":2}}`, "extra.a", []string{id1}},
		{"a string holding the JSON", quoted(dupIDs), "instanceIds", []string{id1, id2}},
		{"base64 of the JSON", b64, "instanceIds", []string{id1, id2}},
		{"in a batch", `[{"instanceIds":["i-bp67acfmxazb4p0003"]},` + dupIDs + `]`, "instanceIds", []string{id1, id2}},
		{"a timer's payload", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(dupIDs) + `}`, "instanceIds", []string{id1, id2}},
		{"an MNS queue message's body", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + quoted(dupIDs) + `}}`, "instanceIds", []string{id1, id2}},
		{"a form in a timer's payload", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":"RegionId=cn-hangzhou&RegionId=cn-beijing&InstanceId.1=i-bp67acfmxazb4p0001"}`, "RegionId", []string{id1}},
		// Two keys encoding/json reads as one field are one key given
		// twice: it folds case by Unicode simple folding, ſ (U+017F) is s
		// and the Kelvin sign (U+212A) is k.
		{"instanceIds and instanceIdſ", `{"instanceIds":["i-bp67acfmxazb4p0001"],"instanceIdſ":["i-bp67acfmxazb4p0002"]}`, "instanceIdſ", []string{id1}},
		{"instanceIds and INSTANCEIDS", `{"instanceIds":["i-bp67acfmxazb4p0001"],"INSTANCEIDS":["i-bp67acfmxazb4p0002"]}`, "INSTANCEIDS", []string{id1}},
		{"a tag's key and \u212aey", `{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev","\u212aey":"team"}]}`, "tags[0].\u212aey", nil},
		{"a target's regionId and REGIONID", `{"targets":[{"regionId":"cn-hangzhou","REGIONID":"cn-beijing","instanceIds":["i-bp67acfmxazb4p0001"]}]}`, "targets[0].REGIONID", nil},
		{"an MNS body's instanceIds and instanceIdſ", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + quoted(`{"instanceIds":["i-bp67acfmxazb4p0001"],"instanceIdſ":["i-bp67acfmxazb4p0002"]}`) + `}}`, "instanceIdſ", []string{id1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := Decode([]byte(tc.payload))
			m := msgs[len(msgs)-1]
			if m.Ignored != "" {
				t.Fatalf("ignored %q, want a refused request", m.Ignored)
			}
			if !hasErr(m.Errors, tc.field, "given more than once") {
				t.Errorf("errors %+v, want %q given more than once", m.Errors, tc.field)
			}
			if !reflect.DeepEqual(m.Request.InstanceIDs, tc.ids) {
				t.Errorf("IDs %q, want %q", m.Request.InstanceIDs, tc.ids)
			}
		})
	}
	// Over HTTP, in every spelling of the body.
	for _, body := range []struct {
		ct, body string
		b64      bool
	}{{"application/json", dupIDs, false}, {"application/json", dupIDs, true}, {"text/plain", b64, false}} {
		r, ok, err := ParseHTTP(httpPayload(t, body.ct, body.body, body.b64, nil))
		if !ok || err != nil {
			t.Fatalf("ParseHTTP: %v %v", ok, err)
		}
		msgs, errs := DecodeHTTP(r)
		if len(errs) > 0 || len(msgs) != 1 || !hasErr(msgs[0].Errors, "instanceIds", "given more than once") {
			t.Errorf("HTTP %+v: msgs %+v errs %+v", body, msgs, errs)
		}
	}
}

// DESIGN §5, for envelopes: a key given twice anywhere in an envelope (in any
// letter case, since Go's decoder matches struct fields so) makes it malformed:
// Ignored with a reason naming the key, and nothing it carries is started, so
// that a gateway that read the first occurrence never sees another request than
// the one run.
func TestDuplicateKeyInEnvelope(t *testing.T) {
	req := func(id string) string { return quoted(`{"instanceIds":["` + id + `"]}`) }
	cases := []struct {
		name, payload, key string
	}{
		{"timer payload twice", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + req(id1) + `,"payload":` + req(id2) + `}`, "payload"},
		{"timer Payload in another case", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + req(id1) + `,"Payload":` + req(id2) + `}`, "Payload"},
		{"CloudEvent data twice", `{"specversion":"1.0","id":"e1","source":"s","type":"custom","data":{"instanceIds":["i-bp67acfmxazb4p0001"]},"data":{"instanceIds":["i-bp67acfmxazb4p0002"]}}`, "data"},
		{"MNS messageBody twice", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + req(id1) + `,"messageBody":` + req(id2) + `}}`, "data.messageBody"},
		{"request inside RabbitMQ data", `{"specversion":"1.0","id":"e1","source":"s","type":"amqp:Queue:SendMessage","data":{"envelope":{},"body":{"instanceIds":["i-bp67acfmxazb4p0001"],"instanceIds":["i-bp67acfmxazb4p0002"]}}}`, "data.body.instanceIds"},
		{"MNS topic Message twice", `{"TopicOwner":"1","TopicName":"t","MessageId":"m","Message":` + req(id1) + `,"Message":` + req(id2) + `}`, "Message"},
		{"ECS state twice", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-bp67acfmxazb4p0001","state":"Running","state":"Stopped"}}`, "data.state"},
		{"ECS notification resourceId twice", `{"product":"ECS","name":"Instance:StateChange","id":"n1","content":{"resourceId":"i-bp67acfmxazb4p0001","resourceId":"i-bp67acfmxazb4p0002","state":"Stopped"}}`, "content.resourceId"},
		{"alarm dimensions twice", `{"alertState":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}","dimensions":"{instanceId=i-bp67acfmxazb4p0002}"}`, "dimensions"},
		{"alarm state twice", `{"alertState":"OK","alertState":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}"}`, "alertState"},
		{"RawData messageBody twice", `{"messageId":"m1","messageBody":` + req(id1) + `,"messageBody":` + req(id2) + `}`, "messageBody"},
		{"STREAM body twice", `{"body":` + req(id1) + `,"body":` + req(id2) + `}`, "body"},
		// encoding/json matches field names by Unicode simple folding
		// (ſ U+017F is s, the Kelvin sign U+212A is k): such keys are one.
		{"MNS messageBody and meſſageBody", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + req(id1) + `,"meſſageBody":` + req(id2) + `}}`, "data.meſſageBody"},
		{"alarm alertState and alertſtate", `{"alertState":"OK","alertſtate":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}"}`, "alertſtate"},
		{"alarm in a CloudEvent, alertſtate", `{"specversion":"1.0","id":"e1","source":"acs.cloudmonitor","type":"cms:AlarmStatusChanged","data":{"alertState":"OK","alertſtate":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}"}}`, "data.alertſtate"},
		{"timer payload and PAYLOAD", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + req(id1) + `,"PAYLOAD":` + req(id2) + `}`, "PAYLOAD"},
		{"CloudEvent data and dat\u0041", `{"specversion":"1.0","id":"e1","source":"s","type":"custom","data":{"instanceIds":["i-bp67acfmxazb4p0001"]},"dat\u0041":{"instanceIds":["i-bp67acfmxazb4p0002"]}}`, "datA"},
		{"ECS state and \u017ftate", `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-bp67acfmxazb4p0001","state":"Running","\u017ftate":"Stopped"}}`, "data.ſtate"},
		{"MNS topic Message and Meſſage", `{"TopicOwner":"1","TopicName":"t","MessageId":"m","Message":` + req(id1) + `,"Meſſage":` + req(id2) + `}`, "Meſſage"},
		{"Kafka value and VALUE", `{"specversion":"1.0","id":"e1","source":"s","type":"alikafka:Topic:Message","data":{"topic":"t","partition":0,"offset":1,"value":` + req(id1) + `,"VALUE":` + req(id2) + `}}`, "data.VALUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range Decode([]byte(tc.payload)) {
				if len(m.Request.InstanceIDs) > 0 {
					t.Errorf("a value was picked: %+v", m)
				}
				if !strings.Contains(m.Ignored, "key "+tc.key+" is given more than once") {
					t.Errorf("ignored %q, want it to name key %s", m.Ignored, tc.key)
				}
			}
		})
	}

	// An alarm callback's form is read as its JSON form is: a key given
	// twice, or two keys encoding/json would read as one, start nothing.
	for _, form := range []string{
		"alertState=OK&alertſtate=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D",
		"alertState=OK&alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D",
		"alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D&DIMENSIONS=%7BinstanceId%3Di-bp67acfmxazb4p0002%7D",
	} {
		r, ok, err := ParseHTTP(httpPayload(t, "application/x-www-form-urlencoded", form, false, nil))
		if !ok || err != nil {
			t.Fatalf("ParseHTTP: %v %v", ok, err)
		}
		msgs, errs := DecodeHTTP(r)
		if len(errs) > 0 || len(msgs) != 1 || len(msgs[0].Request.InstanceIDs) > 0 || !strings.Contains(msgs[0].Ignored, "is given more than once") {
			t.Errorf("alarm form %s: msgs %+v errs %+v, want one Ignored message naming the key", form, msgs, errs)
		}
	}

	// The HTTP trigger event itself: a second body, or a second Authorization
	// header in another case, is a malformed event (400).
	for _, p := range []string{
		`{"rawPath":"/","requestContext":{},"body":` + req(id1) + `,"body":` + req(id2) + `}`,
		`{"rawPath":"/","requestContext":{},"headers":{"Authorization":"Bearer a","authorization":"Bearer b"},"body":` + req(id1) + `}`,
		`{"rawPath":"/","requestContext":{},"body":` + req(id1) + `,"boDy":` + req(id2) + `}`,
		`{"rawPath":"/","requestContext":{},"isBase64Encoded":false,"i\u017fBase64Encoded":true,"body":` + req(id1) + `}`,
	} {
		if _, ok, err := ParseHTTP([]byte(p)); !ok || err == nil || !strings.Contains(err.Error(), "given more than once") {
			t.Errorf("ParseHTTP(%s): ok %v err %v, want a malformed event", p, ok, err)
		}
	}
}

// DESIGN §4: where the operator wrote the payload (a direct invoke, a timer's
// payload, an HTTP body), a JSON object that is neither a start request nor a
// known event is a mistake: Ignored, with errors naming its fields ({} names
// nothing). A queue's body is news to skip: Ignored, without errors.
func TestOperatorPayloadNamingNothing(t *testing.T) {
	timer := func(p string) string {
		return `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(p) + `}`
	}
	cases := []struct {
		name    string
		payload string
		errs    []string
	}{
		{"direct, unknown fields", `{"foo":1,"bar":2}`, []string{"foo", "bar"}},
		{"direct, empty object", `{}`, []string{"instanceIds"}},
		{"direct, base64 of an unknown object", base64.StdEncoding.EncodeToString([]byte(`{"foo":1}`)), nil},
		{"timer, unknown field", timer(`{"foo":1}`), []string{"foo"}},
		{"timer, empty object", timer(`{}`), []string{"instanceIds"}},
		{"timer, array of an unknown object", timer(`[{"foo":1}]`), []string{"[0].foo"}},
		{"MNS queue body, unknown field", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"{\"foo\":1}"}}`, nil},
		{"RocketMQ body, empty object", `{"specversion":"1.0","id":"e1","source":"s","type":"mq:Topic:SendMessage","data":{"topic":"t","systemProperties":{},"body":"{}"}}`, nil},
		{"Kafka value, unknown field", `{"specversion":"1.0","id":"e1","source":"s","type":"alikafka:Topic:Message","data":{"topic":"t","partition":0,"offset":1,"value":{"foo":1}}}`, nil},
		{"RabbitMQ body, unknown field", `{"specversion":"1.0","id":"e1","source":"s","type":"amqp:Queue:SendMessage","data":{"envelope":{},"body":{"foo":1}}}`, nil},
		{"MNS topic Message, unknown field", `{"TopicOwner":"1","TopicName":"t","MessageId":"m","Message":"{\"foo\":1}"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored == "" {
				t.Fatalf("not ignored: %+v", m)
			}
			if got := errFields(m.Errors); !reflect.DeepEqual(got, tc.errs) {
				t.Errorf("errors %+v, want fields %q", m.Errors, tc.errs)
			}
		})
	}
	// The base64 case above is base64 of JSON from an unknown sender (an MNS
	// topic's STREAM form looks the same): it stays Ignored without errors.
}

// DESIGN §4: an HTTP JSON array any element of which is not a start request is
// refused; DecodeHTTP names each such element ([1,2], [{},{"foo":1}], a bad
// element beside a good one), and a single object of unknown fields names them.
func TestHTTPArrayOfNonRequests(t *testing.T) {
	cases := []struct {
		body string
		errs [][]string // per message
	}{
		{`[1,2]`, [][]string{{"[0]"}, {"[1]"}}},
		{`[{},{"foo":1}]`, [][]string{{"[0].instanceIds"}, {"[1].foo"}}},
		{`[{"instanceIds":["i-bp67acfmxazb4p0001"]},5]`, [][]string{nil, {"[1]"}}},
		{`[{"instanceIds":["i-bp67acfmxazb4p0001"]},{"foo":1}]`, [][]string{nil, {"[1].foo"}}},
		{`[{"instanceIds":["i-bp67acfmxazb4p0001"]},null]`, [][]string{nil, {"[1]"}}},
		{`[{"instanceIds":["i-bp67acfmxazb4p0001"]},"hello"]`, [][]string{nil, {"[1]"}}},
		{`[{"instanceIds":["i-bp67acfmxazb4p0001"]},[]]`, [][]string{nil, {"[1]"}}},
	}
	for _, tc := range cases {
		r, ok, err := ParseHTTP(httpPayload(t, "application/json", tc.body, false, nil))
		if !ok || err != nil {
			t.Fatalf("ParseHTTP: %v %v", ok, err)
		}
		msgs, errs := DecodeHTTP(r)
		if len(errs) > 0 || len(msgs) != len(tc.errs) {
			t.Errorf("%s: msgs %+v errs %+v", tc.body, msgs, errs)
			continue
		}
		for i, m := range msgs {
			if got := errFields(m.Errors); !reflect.DeepEqual(got, tc.errs[i]) {
				t.Errorf("%s: message %d: errors %+v, want fields %q", tc.body, i, m.Errors, tc.errs[i])
			}
			if (tc.errs[i] != nil) != (m.Ignored != "") {
				t.Errorf("%s: message %d: ignored %q", tc.body, i, m.Ignored)
			}
		}
	}
	for body, want := range map[string][]string{`{"foo":1,"bar":[2]}`: {"foo", "bar"}, `{}`: {"instanceIds"}} {
		r, _, _ := ParseHTTP(httpPayload(t, "application/json", body, false, nil))
		msgs, errs := DecodeHTTP(r)
		if len(msgs) != 0 || !reflect.DeepEqual(errFields(errs), want) {
			t.Errorf("%s: msgs %+v errs %+v, want errors on %q", body, msgs, errs, want)
		}
	}
}

// DESIGN §5: every string the request held that could be an ID stays in the
// request (named by its field), and each element that is not a string is an
// error naming that element: no ID is lost, no phantom "" appears.
func TestNonStringIDElements(t *testing.T) {
	cases := []struct {
		name, payload string
		ids, fields   []string
		errs          []string
	}{
		{"a number", `{"instanceIds":["i-bp67acfmxazb4p0001",5]}`, []string{id1}, []string{"instanceIds[0]"}, []string{"instanceIds[1]"}},
		{"null", `{"instanceIds":["i-bp67acfmxazb4p0001",null]}`, []string{id1}, []string{"instanceIds[0]"}, []string{"instanceIds[1]"}},
		{"an object, a bool, then a string", `{"instanceIds":[{},true,"i-bp67acfmxazb4p0002"]}`, []string{id2}, []string{"instanceIds[2]"}, []string{"instanceIds[0]", "instanceIds[1]"}},
		{"an empty string", `{"instanceIds":["","i-bp67acfmxazb4p0002"]}`, []string{id2}, []string{"instanceIds[1]"}, []string{"instanceIds[0]"}},
		{"ECS array", `{"InstanceId":[null,"i-bp67acfmxazb4p0002"]}`, []string{id2}, []string{"InstanceId[1]"}, []string{"InstanceId[0]"}},
		{"ECS array in a string", `{"InstanceId":"[\"i-bp67acfmxazb4p0001\",7]"}`, []string{id1}, []string{"InstanceId[0]"}, []string{"InstanceId[1]"}},
		{"ECS numbered", `{"InstanceId.1":"i-bp67acfmxazb4p0001","InstanceId.2":null,"InstanceId.3":5,"InstanceId.4":"i-bp67acfmxazb4p0002"}`, []string{id1, id2}, []string{"InstanceId.1", "InstanceId.4"}, []string{"InstanceId.3"}},
		{"comma-separated with an empty item", `{"InstanceId":"i-bp67acfmxazb4p0001,,i-bp67acfmxazb4p0002"}`, []string{id1, id2}, []string{"InstanceId[0]", "InstanceId[2]"}, []string{"InstanceId[1]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" {
				t.Fatalf("ignored %q", m.Ignored)
			}
			if !reflect.DeepEqual(m.Request.InstanceIDs, tc.ids) || !reflect.DeepEqual(m.Request.IDFields, tc.fields) {
				t.Errorf("IDs %q at %q, want %q at %q", m.Request.InstanceIDs, m.Request.IDFields, tc.ids, tc.fields)
			}
			if got := errFields(m.Errors); !reflect.DeepEqual(got, tc.errs) {
				t.Errorf("errors %+v, want fields %q", m.Errors, tc.errs)
			}
		})
	}
}

// DESIGN §5: values are taken as sent; nothing is trimmed, so that the validator
// sees (and refuses) what the caller sent.
func TestValuesTakenAsSent(t *testing.T) {
	const nbspID = "\u00a0i-bp67acfmxazb4p0001\u0085"
	cases := []struct {
		name, payload string
		check         func(StartRequest) bool
	}{
		{"NBSP and NEL around an ID", `{"instanceIds":["\u00a0i-bp67acfmxazb4p0001\u0085"]}`,
			func(r StartRequest) bool { return reflect.DeepEqual(r.InstanceIDs, []string{nbspID}) }},
		{"newline after an ID", `{"instanceIds":["i-bp67acfmxazb4p0001\n"]}`,
			func(r StartRequest) bool { return reflect.DeepEqual(r.InstanceIDs, []string{id1 + "\n"}) }},
		{"newline after a region", `{"regionId":"cn-hangzhou\n","instanceIds":["i-bp67acfmxazb4p0001"]}`,
			func(r StartRequest) bool { return r.RegionID == "cn-hangzhou\n" }},
		{"RegionId with a space", `{"RegionId":" cn-hangzhou","InstanceId.1":"i-bp67acfmxazb4p0001"}`,
			func(r StartRequest) bool { return r.RegionID == " cn-hangzhou" }},
		{"batchOptimization with a tab", `{"batchOptimization":"AllTogether\t","instanceIds":["i-bp67acfmxazb4p0001"]}`,
			func(r StartRequest) bool { return r.BatchOptimization == "AllTogether\t" }},
		{"notAfter with a space", `{"notAfter":" 2026-11-26T09:00:00Z","instanceIds":["i-bp67acfmxazb4p0001"]}`,
			func(r StartRequest) bool { return r.NotAfter == " 2026-11-26T09:00:00Z" }},
		{"indexed ID with a newline", `{"InstanceId.1":"i-bp67acfmxazb4p0001\n"}`,
			func(r StartRequest) bool { return reflect.DeepEqual(r.InstanceIDs, []string{id1 + "\n"}) }},
		{"comma-separated IDs with spaces", `{"InstanceId":" i-bp67acfmxazb4p0001 ,i-bp67acfmxazb4p0002"}`,
			func(r StartRequest) bool { return reflect.DeepEqual(r.InstanceIDs, []string{" " + id1 + " ", id2}) }},
		{"array in a string", `{"InstanceId":"[\" i-bp67acfmxazb4p0001\"]"}`,
			func(r StartRequest) bool { return reflect.DeepEqual(r.InstanceIDs, []string{" " + id1}) }},
		{"query values", `RegionId=cn-hangzhou%0A&InstanceId.1=%C2%A0i-bp67acfmxazb4p0001`,
			func(r StartRequest) bool {
				return r.RegionID == "cn-hangzhou\n" && reflect.DeepEqual(r.InstanceIDs, []string{"\u00a0" + id1})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" || !tc.check(m.Request) {
				t.Errorf("request %+v (ignored %q), want the values as sent", m.Request, m.Ignored)
			}
		})
	}
	// dryRun "true\n" is not true: an error, not a dry run taken silently.
	if m := decodeOne(t, `{"instanceIds":["i-bp67acfmxazb4p0001"],"dryRun":"true\n"}`); !hasErr(m.Errors, "dryRun", "true or false") {
		t.Errorf("dryRun \"true\\n\": %+v", m)
	}
	// A form body over HTTP, likewise.
	r, _, _ := ParseHTTP(httpPayload(t, "application/x-www-form-urlencoded", "RegionId=cn-hangzhou+&InstanceId=i-bp67acfmxazb4p0001%0A", false, nil))
	msgs, errs := DecodeHTTP(r)
	if len(errs) > 0 || len(msgs) != 1 || msgs[0].Request.RegionID != "cn-hangzhou " || !reflect.DeepEqual(msgs[0].Request.InstanceIDs, []string{id1 + "\n"}) {
		t.Errorf("form: %+v %+v", msgs, errs)
	}
}

// DESIGN §5: errors name the field as the caller spelled it, and the request
// says how each ID and field was spelled, so that the validator can too.
func TestFieldsAsSpelled(t *testing.T) {
	m := decodeOne(t, `RegionId=cn-hangzhou&InstanceId.1=web-server-01&InstanceId.7=i-bp67acfmxazb4p0002&DryRun=maybe`)
	if !reflect.DeepEqual(m.Request.IDFields, []string{"InstanceId.1", "InstanceId.7"}) {
		t.Errorf("IDFields %q", m.Request.IDFields)
	}
	if m.Request.IDField(0) != "InstanceId.1" || m.Request.FieldName("regionId") != "RegionId" || m.Request.FieldName("instanceIds") != "InstanceId.N" {
		t.Errorf("IDField(0) %q FieldName(regionId) %q", m.Request.IDField(0), m.Request.FieldName("regionId"))
	}
	if !hasErr(m.Errors, "DryRun", "true or false") {
		t.Errorf("errors %+v, want DryRun named as spelled", m.Errors)
	}

	// Repeated form values add up, and their IDs are counted across them.
	req, errs := decodeValues(map[string][]string{"InstanceId": {`["i-bp67acfmxazb4p0001",5]`, "i-bp67acfmxazb4p0002"}})
	if !reflect.DeepEqual(req.IDFields, []string{"InstanceId[0]", "InstanceId[2]"}) || !reflect.DeepEqual(errFields(errs), []string{"InstanceId[1]"}) {
		t.Errorf("repeated InstanceId: %+v %+v", req, errs)
	}

	// Mixed spellings name the second spelling as sent and keep every ID.
	m = decodeOne(t, `{"InstanceId.1":"i-bp67acfmxazb4p0001","instanceIds":["i-bp67acfmxazb4p0002"]}`)
	if !hasErr(m.Errors, "instanceIds", "use one spelling") || len(m.Request.InstanceIDs) != 2 {
		t.Errorf("mixed: %+v %+v", m.Request, m.Errors)
	}
}

// DESIGN §4: ECS state-change events are accepted in each published layout: the
// state change in data (data.state, data.resourceId), the notification layout
// inside data (data.content.state, data.content.resourceId, data.regionId), the
// bare notification (from an MNS queue, or alone), and the instance from the
// subject ARN.
func TestECSStateLayouts(t *testing.T) {
	ce := func(subject, data string) string {
		return `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","subject":"` + subject +
			`","time":"2026-11-26T00:59:58Z","aliyunregionid":"cn-beijing","data":` + data + `}`
	}
	const arn2 = "acs:ecs:cn-shanghai:1234567890123456:instance/i-bp67acfmxazb4p0002"
	notif := func(region, arn, content string) string {
		return `{"ver":"1.0","id":"n1","product":"ECS","name":"Instance:StateChange","level":"INFO","regionId":"` + region +
			`","userId":"1","eventTime":"20261126T085957.000+0800","resourceId":"` + arn + `","content":` + content + `}`
	}
	const stopped2 = `{"resourceId":"i-bp67acfmxazb4p0002","resourceType":"ALIYUN::ECS::Instance","state":"Stopped"}`
	cases := []struct {
		name, payload   string
		id, region, ign string
	}{
		{"flat data", ce("", `{"resourceId":"i-bp67acfmxazb4p0002","state":"Stopped"}`), id2, "cn-beijing", ""},
		{"notification in data", ce("", notif("cn-shanghai", arn2, stopped2)), id2, "cn-shanghai", ""},
		{"notification in data, region from data.regionId", ce("", notif("cn-shenzhen", "", stopped2)), id2, "cn-shenzhen", ""},
		{"notification in data, instance from data.resourceId", ce("", notif("cn-shanghai", arn2, `{"state":"Stopped"}`)), id2, "cn-shanghai", ""},
		{"notification in data, instance from the subject", ce(arn2, notif("", "", `{"state":"Stopped"}`)), id2, "cn-shanghai", ""},
		{"notification in data, content a string", ce("", notif("cn-shanghai", arn2, quoted(stopped2))), id2, "cn-shanghai", ""},
		{"notification in data, Running", ce("", notif("cn-shanghai", arn2, `{"resourceId":"i-bp67acfmxazb4p0002","state":"Running"}`)), "", "", "state changed to Running, not Stopped"},
		{"flat data, instance from the subject", ce(arn2, `{"state":"Stopped"}`), id2, "cn-shanghai", ""},
		{"bare notification", notif("cn-shanghai", arn2, stopped2), id2, "cn-shanghai", ""},
		{"bare notification in an MNS queue message", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + quoted(notif("cn-shanghai", arn2, stopped2)) + `}}`, id2, "cn-shanghai", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != tc.ign || m.Trigger != ECSEvent || !m.RequireRestartTag {
				t.Fatalf("ignored %q trigger %q restartTag %v, want %q", m.Ignored, m.Trigger, m.RequireRestartTag, tc.ign)
			}
			if tc.ign != "" {
				return
			}
			if !reflect.DeepEqual(m.Request.InstanceIDs, []string{tc.id}) || m.InstanceRegion != tc.region {
				t.Errorf("IDs %q region %q, want %s in %s", m.Request.InstanceIDs, m.InstanceRegion, tc.id, tc.region)
			}
		})
	}
}

// DESIGN §4: expiry runs from the earliest time the event states, the envelope's
// and the body's, and a time without a zone is UTC.
func TestEarliestTime(t *testing.T) {
	cases := []struct {
		name, payload, want string
	}{
		{"timer triggerTime without a zone", `{"triggerTime":"2026-11-26T00:30:00","triggerName":"t","payload":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}`, "2026-11-26T00:30:00Z"},
		{"timer triggerTime with a space, no zone", `{"triggerTime":"2026-11-26 00:30:00","triggerName":"t","payload":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}`, "2026-11-26T00:30:00Z"},
		{"CloudEvent time without a zone", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","time":"2026-11-26T00:59:58.5","data":{"messageId":"m1","messageBody":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}}`, "2026-11-26T00:59:58.5Z"},
		{"a timer payload carrying an older event", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` +
			quoted(`{"alertState":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}","timestamp":"1795649400000"}`) + `}`, "2026-11-25T23:30:00Z"},
		{"CloudMonitor event whose alarm is older than the envelope", `{"specversion":"1.0","id":"e1","source":"acs.cloudmonitor","type":"cms:CloudMonitor:AlertWebHook","time":"2026-11-26T00:59:58Z","data":{"alertState":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}","timestamp":"1795649400000"}}`, "2026-11-25T23:30:00Z"},
		{"CloudMonitor event whose alarm is newer than the envelope", `{"specversion":"1.0","id":"e1","source":"acs.cloudmonitor","type":"cms:CloudMonitor:AlertWebHook","time":"2026-11-25T23:00:00Z","data":{"alertState":"ALERT","dimensions":"{instanceId=i-bp67acfmxazb4p0001}","timestamp":"1795654798000"}}`, "2026-11-25T23:00:00Z"},
		{"Kafka record older than its CloudEvent", `{"specversion":"1.0","id":"e1","source":"s","type":"alikafka:Topic:Message","time":"2026-11-26T00:59:58Z","data":{"topic":"t","partition":0,"offset":1,"timestamp":1795649400000,"value":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}}`, "2026-11-25T23:30:00Z"},
		{"CloudEvent published before its own time", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","time":"2026-11-26T00:59:58Z","aliyunpublishtime":"2026-11-25T23:30:00.000Z","data":{"messageId":"m1","messageBody":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}}`, "2026-11-25T23:30:00Z"},
		{"ECS notification whose event is older than its MNS topic message", `{"TopicOwner":"1","TopicName":"t","MessageId":"m","PublishTime":1795654798000,"Message":` +
			quoted(`{"product":"ECS","name":"Instance:StateChange","id":"n1","eventTime":"20261126T073000.000+0800","content":{"resourceId":"i-bp67acfmxazb4p0001","state":"Stopped"}}`) + `}`, "2026-11-25T23:30:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" {
				t.Fatalf("ignored %q", m.Ignored)
			}
			if got := m.Time.UTC().Format(time.RFC3339Nano); got != tc.want {
				t.Errorf("time %s, want %s", got, tc.want)
			}
		})
	}

	// Over HTTP: an alarm callback whose body's timestamp is fresh, in a
	// request whose timeEpoch is 2 h older, carries the older time; so does a
	// CloudEvent in a JSON body.
	const epoch = "1795647600000" // 2026-11-25T23:00:00Z
	for _, body := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D&timestamp=1795654800000"},
		{"application/json", `{"alertState":"ALERT","dimensions":{"instanceId":"i-bp67acfmxazb4p0001"},"timestamp":1795654800000}`},
		{"application/json", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","time":"2026-11-26T01:00:00Z","data":{"messageId":"m1","messageBody":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}}`},
	} {
		p := httpPayload(t, body.ct, body.body, false, nil)
		p = []byte(strings.Replace(string(p), `"1795654800000"`, `"`+epoch+`"`, 1))
		r, ok, err := ParseHTTP(p)
		if !ok || err != nil || r.TimeEpochMs != 1795647600000 {
			t.Fatalf("ParseHTTP: %v %v %+v", ok, err, r)
		}
		msgs, errs := DecodeHTTP(r)
		if len(errs) > 0 || len(msgs) != 1 || msgs[0].Ignored != "" {
			t.Fatalf("%s: %+v %+v", body.body, msgs, errs)
		}
		if got := msgs[0].Time.UTC().Format(time.RFC3339); got != "2026-11-25T23:00:00Z" {
			t.Errorf("%s: time %s, want timeEpoch's 2026-11-25T23:00:00Z", body.body, got)
		}
	}
}
