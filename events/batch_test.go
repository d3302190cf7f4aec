package events

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// quoted renders s as a JSON string.
func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A message body that is a JSON array of start requests (as JSON, a JSON string
// holding it, or base64 of it) is several messages, one per element, in every
// carrier: each keeps the envelope's trigger, time and source region, and its Source
// is the envelope's with the element's index appended. Nothing is lost: an element
// that names nothing is one Ignored message of its own.
func TestDecodeBodyArrays(t *testing.T) {
	const arr = `[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]},{"InstanceId.1":"i-bp67acfmxazb4p0002","InstanceId.2":"i-bp67acfmxazb4p0003"},42]`
	b64 := base64.StdEncoding.EncodeToString([]byte(arr))
	ce := func(typ, data string) string {
		return `{"specversion":"1.0","id":"ev-1","source":"s","type":"` + typ + `","subject":"acs:mns:cn-hangzhou:1:queues/q","time":"2026-11-26T00:59:58Z","aliyunregionid":"cn-shanghai","data":` + data + `}`
	}
	const at = "2026-11-26T00:59:58Z"
	elems := func(trigger Trigger, src, at, sourceRegion, notRequest string) []want {
		w := []want{
			{trigger: trigger, source: src + "[0]", time: at, ids: []string{id1}, region: "cn-hangzhou", sourceRegion: sourceRegion},
			{trigger: trigger, source: src + "[1]", time: at, ids: []string{id2, id3}, sourceRegion: sourceRegion},
			{trigger: trigger, source: src + "[2]", time: at, ignored: notRequest, sourceRegion: sourceRegion},
		}
		if trigger == Timer {
			// DESIGN §4: the operator wrote a timer's payload, so an element
			// that is not a start request is a mistake, named; a queue's body
			// is news to skip.
			w[2].errs = []string{"[2]"}
		}
		return w
	}
	const mnsSrc = "mns:acs:mns:cn-hangzhou:1:queues/q/m1"
	tests := []struct {
		name    string
		payload string
		wants   []want
	}{
		{"MNS messageBody, a string holding the array", ce("mns:Queue:SendMessage", `{"messageId":"m1","messageBody":`+quoted(arr)+`}`),
			elems(MNS, mnsSrc, at, "cn-shanghai", ReasonNotRequest)},
		{"MNS messageBody, base64 of the array", ce("mns:Queue:SendMessage", `{"messageId":"m1","messageBody":"`+b64+`"}`),
			elems(MNS, mnsSrc, at, "cn-shanghai", ReasonNotRequest)},
		{"MNS messageBody, a string holding a string holding the array", ce("mns:Queue:SendMessage", `{"messageId":"m1","messageBody":`+quoted(quoted(arr))+`}`),
			elems(MNS, mnsSrc, at, "cn-shanghai", ReasonNotRequest)},
		{"RocketMQ body", ce("mq:Topic:SendMessage", `{"topic":"t","systemProperties":{"MSG_REGION":"cn-beijing"},"userProperties":{},"body":`+quoted(arr)+`}`),
			elems(RocketMQ, "rocketmq:ev-1", at, "cn-shanghai", ReasonNotRequest)},
		{"RabbitMQ body, the array itself", ce("amqp:Queue:SendMessage", `{"envelope":{"deliveryTag":1},"body":`+arr+`,"props":{}}`),
			elems(RabbitMQ, "rabbitmq:ev-1", at, "cn-shanghai", ReasonNotRequest)},
		{"Kafka value, a string", ce("alikafka:Topic:Message", `{"topic":"t","partition":0,"offset":1,"value":`+quoted(arr)+`}`),
			elems(Kafka, "kafka:ev-1", at, "cn-shanghai", ReasonNotRequest)},
		{"Kafka value, Python bytes", ce("alikafka:Topic:Message", `{"topic":"t","partition":0,"offset":1,"value":`+quoted("b'"+arr+"'")+`}`),
			elems(Kafka, "kafka:ev-1", at, "cn-shanghai", ReasonNotRequest)},
		{"CloudEvent of another type, data the array", ce("custom:Thing:Happened", arr),
			elems(Direct, "event:ev-1", at, "cn-shanghai", ReasonNotRequest)},
		{"RawData MNS queue data", `{"requestId":"r1","messageId":"m2","messageBody":` + quoted(arr) + `}`,
			elems(MNS, "mns:m2", "", "", ReasonNotRequest)},
		{"MNS topic Message", `{"TopicOwner":"1","TopicName":"t","MessageId":"m3","PublishTime":1795654798000,"Message":` + quoted(arr) + `}`,
			elems(MNSTopic, "mns-topic:t/m3", at, "", ReasonNotRequest)},
		{"MNS topic Message, base64", `{"TopicOwner":"1","TopicName":"t","MessageId":"m3","PublishTime":1795654798000,"Message":"` + b64 + `"}`,
			elems(MNSTopic, "mns-topic:t/m3", at, "", ReasonNotRequest)},
		{"timer payload", `{"triggerTime":"2026-11-26T00:59:58Z","triggerName":"t","payload":` + quoted(arr) + `}`,
			elems(Timer, "timer:t", at, "", "timer payload is not a start request")},
		{"timer payload, base64", `{"triggerTime":"2026-11-26T00:59:58Z","triggerName":"t","payload":"` + b64 + `"}`,
			elems(Timer, "timer:t", at, "", "timer payload is not a start request")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, Decode([]byte(tc.payload)), tc.wants)
		})
	}
}

// An empty array as a body names nothing: one Ignored message, under the
// envelope's Source.
func TestDecodeBodyEmptyArray(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    want
	}{
		{"MNS", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"[]"}}`,
			want{trigger: MNS, source: "mns:m1", ignored: ReasonEmptyBatch}},
		{"MNS, base64", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"W10="}}`,
			want{trigger: MNS, source: "mns:m1", ignored: ReasonEmptyBatch}},
		{"timer", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":" [ ] "}`,
			want{trigger: Timer, source: "timer:t", time: "2026-11-26T00:30:00Z", ignored: ReasonEmptyBatch}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, Decode([]byte(tc.payload)), []want{tc.want})
		})
	}
}

// Every element of a body array gives exactly one Message, whatever it holds, and
// the index in each Source tells them apart.
func TestDecodeBodyArrayLosesNothing(t *testing.T) {
	elems := []string{
		`{"instanceIds":["i-bp67acfmxazb4p0001"]}`, `42`, `null`, `"hello"`, `""`, `{}`, `true`,
		`{"dryRun":"maybe","instanceIds":["i-bp67acfmxazb4p0002"]}`,
		quoted(`{"instanceIds":["i-bp67acfmxazb4p0003"]}`),
		quoted(base64.StdEncoding.EncodeToString([]byte(`{"instanceIds":["i-bp67acfmxazb4p0004"]}`))),
		`{"alertState":"OK","dimensions":"{instanceId=i-bp67acfmxazb4p0005}"}`,
		`"RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0006"`,
	}
	body := "[" + strings.Join(elems, ",") + "]"
	payload := `{"specversion":"1.0","id":"e1","source":"s","type":"mq:Topic:SendMessage","data":{"topic":"t","systemProperties":{},"body":` + quoted(body) + `}}`
	msgs := Decode([]byte(payload))
	if len(msgs) != len(elems) {
		t.Fatalf("got %d messages for %d elements: %+v", len(msgs), len(elems), msgs)
	}
	named := 0
	for i, m := range msgs {
		if want := fmt.Sprintf("rocketmq:e1[%d]", i); m.Source != want {
			t.Errorf("message %d: source %q, want %q", i, m.Source, want)
		}
		if m.Ignored == "" {
			named++
		}
	}
	// The requests (one with an error), the string, the base64 and the query.
	if named != 5 {
		t.Errorf("%d messages name instances, want 5: %+v", named, msgs)
	}
}

// An event carried inside a queue message whose own body is a batch gives one
// message per element, under the queue message's Source with the index appended.
func TestDecodeEventInBodyWithArray(t *testing.T) {
	topic := `{"TopicOwner":"1","TopicName":"t","MessageId":"m3","PublishTime":1795654799000,"Message":` +
		quoted(`[{"instanceIds":["i-bp67acfmxazb4p0001"]},{"instanceIds":["i-bp67acfmxazb4p0002"]}]`) + `}`
	payload := `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","time":"2026-11-26T00:59:58Z","data":{"messageId":"m1","messageBody":` + quoted(topic) + `}}`
	check(t, Decode([]byte(payload)), []want{
		{trigger: MNSTopic, source: "mns:m1[0]", time: "2026-11-26T00:59:58Z", ids: []string{id1}},
		{trigger: MNSTopic, source: "mns:m1[1]", time: "2026-11-26T00:59:58Z", ids: []string{id2}},
	})
}

// A timer payload that is base64 of a start request decodes like any other body
// (DESIGN §4); base64 of something that is not JSON is still not JSON.
func TestDecodeTimerBase64(t *testing.T) {
	timer := func(payload string) string {
		return `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"morning","payload":` + quoted(payload) + `}`
	}
	req := `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"],"dryRun":true}`
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		check(t, Decode([]byte(timer(enc.EncodeToString([]byte(req))))), []want{
			{trigger: Timer, source: "timer:morning", time: "2026-11-26T00:30:00Z", ids: []string{id1, id2}, region: "cn-hangzhou", dryRun: true},
		})
	}
	check(t, Decode([]byte(timer(base64.StdEncoding.EncodeToString([]byte("hello world"))))), []want{
		{trigger: Timer, source: "timer:morning", time: "2026-11-26T00:30:00Z", ignored: "timer payload is not JSON"},
	})
	check(t, Decode([]byte(timer(base64.StdEncoding.EncodeToString([]byte(`{"hello":1}`))))), []want{
		{trigger: Timer, source: "timer:morning", time: "2026-11-26T00:30:00Z", ignored: "timer payload is not a start request", errs: []string{"hello"}},
	})
}

// The elements of a top-level batch that have no ID of their own — start requests,
// and whatever names nothing — carry the batch's Source with their index, so that
// an operator can find them; events in a batch keep their own IDs.
func TestDecodeTopBatchSources(t *testing.T) {
	const ev = `{"specversion":"1.0","id":"ev-9","source":"s","type":"mq:Topic:SendMessage","data":{"topic":"t","systemProperties":{},"body":"{\"instanceIds\":[\"i-bp67acfmxazb4p0003\"]}"}}`
	const badEv = `{"specversion":"1.0","id":"ev-8","source":"s","type":"mq:Topic:SendMessage","time":{"at":1},"data":{}}`
	const badTimer = `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":["t"]}`
	check(t, Decode([]byte(`[{"instanceIds":["i-bp67acfmxazb4p0001"]}, 42, "hello", `+ev+`, `+badEv+`, [{"instanceIds":["i-bp67acfmxazb4p0002"]}, null], `+badTimer+`]`)), []want{
		{trigger: Direct, source: "direct[0]", ids: []string{id1}},
		{trigger: Direct, source: "direct[1]", ignored: ReasonUnknownPayload, errs: []string{"[1]"}},
		{trigger: Direct, source: "direct[2]", ignored: ReasonUnknownPayload, errs: []string{"[2]"}},
		{trigger: RocketMQ, source: "rocketmq:ev-9", ids: []string{id3}},
		{trigger: Direct, source: "direct[4]", ignored: "malformed CloudEvent: field time has the wrong type"},
		{trigger: Direct, source: "direct[5][0]", ids: []string{id2}},
		{trigger: Direct, source: "direct[5][1]", ignored: ReasonUnknownPayload, errs: []string{"[5][1]"}},
		{trigger: Direct, source: "direct[6]", ignored: "malformed timer event: field triggerName has the wrong type"},
	})

	// An element that is base64 of a start request is one, not an MNS topic
	// message in the STREAM form (which comes alone, as a whole payload).
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"instanceIds":["i-bp67acfmxazb4p0001"]}`))
	check(t, Decode([]byte(`["`+b64+`","`+b64+`"]`)), []want{
		{trigger: Direct, source: "direct[0]", ids: []string{id1}},
		{trigger: Direct, source: "direct[1]", ids: []string{id1}},
	})

	// An HTTP body that is a batch, likewise.
	r, ok, err := ParseHTTP(httpPayload(t, "application/json", `[{"instanceIds":["i-bp67acfmxazb4p0001"]}, 42]`, false, nil))
	if !ok || err != nil {
		t.Fatalf("ParseHTTP: %v %v", ok, err)
	}
	msgs, errs := DecodeHTTP(r)
	if len(errs) > 0 {
		t.Fatalf("errs %+v", errs)
	}
	check(t, msgs, []want{
		{trigger: HTTP, source: "http:req-1[0]", time: "2026-11-26T01:00:00Z", ids: []string{id1}},
		{trigger: HTTP, source: "http:req-1[1]", time: "2026-11-26T01:00:00Z", ignored: ReasonUnknownPayload, errs: []string{"[1]"}},
	})
}
