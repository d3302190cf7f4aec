package deploytest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/plan"
)

// checkStartRequest asserts that a payload decodes, through the function's own
// decoding, into exactly want messages that are start requests the function's
// validation accepts, naming the instance IDs that the sample names.
func checkStartRequest(t *testing.T, where string, payload []byte, sample string, want int, trigger events.Trigger) {
	t.Helper()
	msgs := events.Decode(payload)
	if len(msgs) != want {
		t.Errorf("%s: decoded into %d messages, want %d", where, len(msgs), want)
		return
	}
	sampleIDs := regexp.MustCompile(`i-[a-z0-9]+`).FindAllString(sample, -1)
	for i, m := range msgs {
		if m.Ignored != "" {
			t.Errorf("%s: message %d ignored: %s", where, i, m.Ignored)
			continue
		}
		if len(m.Errors) > 0 {
			t.Errorf("%s: message %d has decoding errors %+v", where, i, m.Errors)
		}
		if errs := plan.Validate(m.Request); len(errs) > 0 {
			t.Errorf("%s: message %d is refused by validation: %+v", where, i, errs)
		}
		if trigger != "" && m.Trigger != trigger {
			t.Errorf("%s: message %d from trigger %q, want %q", where, i, m.Trigger, trigger)
		}
		if len(m.Request.InstanceIDs) != len(sampleIDs) {
			t.Errorf("%s: message %d names %v, the sample %v", where, i, m.Request.InstanceIDs, sampleIDs)
			continue
		}
		for _, id := range m.Request.InstanceIDs {
			if !strings.Contains(sample, `"`+id+`"`) {
				t.Errorf("%s: message %d names %s, which the sample does not", where, i, id)
			}
		}
	}
}

// Every timer payload is a start request: invoked directly (s invoke, the
// console's test event) and inside the event a timer trigger produces.
func TestTimerPayloadsAreStartRequests(t *testing.T) {
	n, sequences := 0, 0
	for _, tr := range triggers(t) {
		if tr.typ != "timer" {
			continue
		}
		n++
		payload := str(tr.config, "payload")
		if strings.Contains(payload, `"sequence"`) {
			sequences++
		}
		if payload == "" {
			t.Errorf("%s: a timer without payload names nothing to start", tr.name)
			continue
		}
		if str(tr.raw, "triggerConfig", "payload") != payload {
			t.Errorf("%s: payload uses a ${…} variable; it must be literal (an anchor) so that it is sent as written", tr.name)
		}
		checkStartRequest(t, tr.name+" (direct)", []byte(payload), payload, 1, "")
		event, err := json.Marshal(map[string]string{
			"triggerTime": time.Now().UTC().Format(time.RFC3339),
			"triggerName": tr.name,
			"payload":     payload,
		})
		if err != nil {
			t.Fatal(err)
		}
		checkStartRequest(t, tr.name+" (timer event)", event, payload, 1, events.Timer)
	}
	if n == 0 {
		t.Fatal("no timer trigger")
	}
	if sequences == 0 {
		t.Error("no timer shows a sequence (DESIGN §3.1)")
	}
}

// envelope wraps a message body in the event an EventBridge stream of the given
// source delivers: a batch (JSON array) of two CloudEvents, as with a batch
// window; Kafka's batches are arrays of strings that each hold one event. The
// field layout follows the samples of the FC Go SDK's event READMEs.
func envelope(t *testing.T, sourceType, body string) ([]byte, events.Trigger) {
	t.Helper()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	var evs []map[string]any
	var trig events.Trigger
	for i := range 2 {
		id := fmt.Sprintf("94ebc15f-f0db-4bbe-acce-56fb72fb000%d", i)
		base := map[string]any{
			"id": id, "specversion": "1.0", "time": now,
			"datacontenttype":   "application/json; charset=utf-8",
			"aliyunaccountid":   testAccountID,
			"aliyunpublishtime": now,
			"aliyunregionid":    "cn-hangzhou",
		}
		switch sourceType {
		case "MNS":
			trig = events.MNS
			base["source"] = "MNS-start-ecs-mns-queue"
			base["type"] = "mns:Queue:SendMessage"
			base["subject"] = "acs:mns:cn-hangzhou:" + testAccountID + ":queues/start-ecs-requests"
			base["aliyuneventbusname"] = "MNS-start-ecs-mns-queue"
			base["data"] = map[string]any{"requestId": "606EA3074344430D4C81000" + fmt.Sprint(i),
				"messageId": "C6DB60D1574661357FA227277445000" + fmt.Sprint(i), "messageBody": body}
		case "RocketMQ":
			trig = events.RocketMQ
			base["source"] = "RocketMQ-start-ecs-rocketmq"
			base["type"] = "mq:Topic:SendMessage"
			base["subject"] = "acs:mq:cn-hangzhou:" + testAccountID + ":MQ_INST_1234567890123456_BXhFHryi%start-ecs"
			base["aliyuneventbusname"] = "RocketMQ-start-ecs-rocketmq"
			base["data"] = map[string]any{"topic": "start-ecs", "body": body, "userProperties": map[string]any{},
				"systemProperties": map[string]any{"MSG_REGION": "cn-hangzhou", "CONSUME_START_TIME": 1628577790396,
					"INSTANCE_ID": "MQ_INST_1234567890123456_BXhFHryi", "MIN_OFFSET": "0", "MAX_OFFSET": "8"}}
		case "Kafka":
			trig = events.Kafka
			base["source"] = "acs:alikafka"
			base["type"] = "alikafka:Topic:Message"
			base["subject"] = "acs:alikafka:alikafka_post-cn-pe337q5qz00c:topic:start-ecs"
			base["data"] = map[string]any{"topic": "start-ecs", "partition": 9, "offset": 3 + i,
				"timestamp": time.Now().UnixMilli(), "headers": map[string]any{"headers": []any{}, "isReadOnly": false},
				"value": body}
		case "RabbitMQ":
			// No SDK sample: the trigger is not asserted, only the request.
			trig = ""
			base["source"] = "RabbitMQ-start-ecs-rabbitmq"
			base["type"] = "amqp:Queue:SendMessage"
			base["subject"] = "acs:amqp:cn-hangzhou:" + testAccountID + ":/instances/amqp-cn-zvp2u8ts2001/vhosts/start-ecs/queues/start-ecs"
			base["data"] = map[string]any{"envelope": map[string]any{"deliveryTag": 98 + i, "exchange": "", "redeliver": false, "routingKey": "start-ecs"},
				"props": map[string]any{"contentEncoding": "UTF-8", "messageId": "rabbit-" + fmt.Sprint(i)}, "body": body}
		default:
			t.Fatalf("no envelope for event source %s", sourceType)
		}
		evs = append(evs, base)
	}
	if sourceType == "Kafka" {
		var strs []string
		for _, e := range evs {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			strs = append(strs, string(b))
		}
		b, err := json.Marshal(strs)
		if err != nil {
			t.Fatal(err)
		}
		return b, trig
	}
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	return b, trig
}

// Every queue trigger has a sample message in the vars.samples of its file,
// and that message, as its event stream delivers it, is a start request the
// function accepts.
func TestSampleMessagesAreStartRequests(t *testing.T) {
	used := map[string]bool{}
	for _, tr := range triggers(t) {
		samples := obj(tr.vars, "samples")
		st := str(tr.config, "eventSourceConfig", "eventSourceType")
		if tr.typ == "mns_topic" {
			sample, _ := samples[tr.name].(string)
			if sample == "" {
				t.Errorf("%s: vars.samples has no sample message for trigger %s", tr.file, tr.name)
				continue
			}
			used[tr.file+"/"+tr.name] = true
			checkStartRequest(t, tr.name+" (topic notification)", mnsTopicEvent(t, tr, sample), sample, 1, events.MNSTopic)
			continue
		}
		if tr.typ != "eventbridge" || st == "Default" {
			continue
		}
		sample, _ := samples[tr.name].(string)
		if sample == "" {
			t.Errorf("%s: vars.samples has no sample message for trigger %s", tr.file, tr.name)
			continue
		}
		used[tr.file+"/"+tr.name] = true
		checkStartRequest(t, tr.name+" (message)", []byte(sample), sample, 1, "")
		payload, trig := envelope(t, st, sample)
		checkStartRequest(t, tr.name+" ("+st+" batch)", payload, sample, 2, trig)
	}
	for _, file := range deployFileNames(t) {
		for name := range obj(readDeployFile(t, file), "vars", "samples") {
			if !used[file+"/"+name] {
				t.Errorf("%s: vars.samples.%s names no queue trigger of the file", file, name)
			}
		}
	}
	if len(used) == 0 {
		t.Error("no queue or topic trigger has a sample")
	}
}

// mnsTopicEvent is what an MNS topic trigger with notifyContentFormat JSON
// delivers for a message published to the topic its sourceArn names.
func mnsTopicEvent(t *testing.T, tr trigger, message string) []byte {
	t.Helper()
	arn := str(tr.resolved, "sourceArn")
	topic := arn[strings.LastIndex(arn, "/")+1:]
	b, err := json.Marshal(map[string]any{
		"TopicOwner": testAccountID, "TopicName": topic, "Subscriber": testAccountID,
		"SubscriptionName": "start-ecs-" + tr.name, "Message": message,
		"MessageId": "2F5B3C281B283D4EAC694B7425288675", "MessageMD5": "BA4BA9B48AC81F0F9C66F6C909C39DBB",
		"PublishTime": time.Now().UnixMilli(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
