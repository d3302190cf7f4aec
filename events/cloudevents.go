package events

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// cloudEvent is the envelope EventBridge (and FC's EventBridge-based triggers: MNS
// queue, RocketMQ, Kafka, RabbitMQ) delivers, CloudEvents 1.0 with Alibaba Cloud's
// extensions:
//
//	{"specversion": "1.0", "id": "94ebc15f-…", "source": "RocketMQ-Function-start-ecs",
//	 "type": "mq:Topic:SendMessage", "subject": "acs:mq:cn-hangzhou:…:MQ_INST_…%start-ecs",
//	 "time": "2026-11-26T01:00:00.000Z", "datacontenttype": "application/json; charset=utf-8",
//	 "aliyunaccountid": "…", "aliyunregionid": "cn-hangzhou", "aliyuneventbusname": "…",
//	 "data": {…}}
//
// A trigger delivers one event, a JSON array of them (batches), or, for Kafka, a JSON
// array of strings that each hold one event. Each event is one Message, or one per
// element when its body is a JSON array (see decodeBody); where its start request is
// depends on its type:
//
//	mns:Queue:SendMessage     data.messageBody (a string)                  trigger mns
//	mq:Topic:SendMessage      data.body (a string)                         trigger rocketmq
//	alikafka:Topic:Message    data.value (a string, or an object)          trigger kafka
//	amqp:Queue:SendMessage    data.body (an object, or a string)           trigger rabbitmq
//	ecs:Instance:StateChange  the instance in data (ecs_state.go)          trigger ecs-event
//	cms:…                     the alarm in data (cms_alarm.go)             trigger cms-alarm
//	anything else             data itself is the body                      trigger direct
//
// An event of an unknown type whose data has a queue's shape is decoded as that
// queue's. With the trigger's RawData schema the payload is the data alone, without
// the envelope: decodeRawData recognises those shapes too.
type cloudEvent struct {
	SpecVersion     text            `json:"specversion"`
	ID              text            `json:"id"`
	Source          text            `json:"source"`
	Type            text            `json:"type"`
	Subject         text            `json:"subject"`
	Time            text            `json:"time"`
	DataContentType text            `json:"datacontenttype"`
	AccountID       text            `json:"aliyunaccountid"`
	PublishTime     text            `json:"aliyunpublishtime"`
	EventBusName    text            `json:"aliyuneventbusname"`
	RegionID        text            `json:"aliyunregionid"`
	Data            json.RawMessage `json:"data"`
}

// mnsQueueData is the data of an MNS queue message event.
//
//	{"requestId": "606EA3074344430D4C81A0B1", "messageId": "C6DB60D1574661357FA22727744590B2",
//	 "messageBody": "{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}
type mnsQueueData struct {
	RequestID   text            `json:"requestId"`
	MessageID   text            `json:"messageId"`
	MessageBody json.RawMessage `json:"messageBody"`
}

// rocketMQData is the data of a RocketMQ message event. systemProperties mixes
// strings and numbers (CONSUME_START_TIME), so it stays raw.
//
//	{"topic": "start-ecs", "systemProperties": {"MSG_REGION": "cn-hangzhou", "UNIQ_KEY": "…", …},
//	 "userProperties": {}, "body": "{\"instanceIds\":[…]}"}
type rocketMQData struct {
	Topic            text                       `json:"topic"`
	SystemProperties map[string]json.RawMessage `json:"systemProperties"`
	UserProperties   map[string]json.RawMessage `json:"userProperties"`
	Body             json.RawMessage            `json:"body"`
}

// kafkaData is the data of a Kafka message event. value is the record's value: a
// string (possibly Python's repr of bytes, b'…'), or a JSON object.
//
//	{"topic": "start-ecs", "partition": 9, "offset": 3, "timestamp": 1659346376797,
//	 "headers": {"headers": [], "isReadOnly": false}, "key": "…", "value": "{…}"}
type kafkaData struct {
	Topic     text            `json:"topic"`
	Partition epoch           `json:"partition"`
	Offset    epoch           `json:"offset"`
	Timestamp epoch           `json:"timestamp"`
	Headers   json.RawMessage `json:"headers"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
}

// rabbitMQData is the data of a RabbitMQ message event; body is the message, an
// object when it was JSON.
//
//	{"envelope": {"deliveryTag": 98, "exchange": "", "redeliver": false, "routingKey": "start-ecs"},
//	 "body": {"instanceIds": […]}, "props": {"contentEncoding": "UTF-8", "messageId": "f7622d51-…"}}
type rabbitMQData struct {
	Envelope json.RawMessage `json:"envelope"`
	Body     json.RawMessage `json:"body"`
	Props    struct {
		ContentEncoding text `json:"contentEncoding"`
		MessageID       text `json:"messageId"`
	} `json:"props"`
}

func isCloudEvent(obj map[string]json.RawMessage) bool {
	return has(obj, "specversion") || has(obj, "id", "type", "source", "data")
}

// queueKind tells which queue an event or a RawData payload comes from: by the
// event's type first, then by the shape of its data.
func queueKind(eventType string, data map[string]json.RawMessage) Trigger {
	t := strings.ToLower(eventType)
	switch {
	case strings.HasPrefix(t, "mns:"):
		return MNS
	case strings.HasPrefix(t, "mq:"), strings.HasPrefix(t, "rocketmq:"):
		return RocketMQ
	case strings.HasPrefix(t, "alikafka:"), strings.HasPrefix(t, "kafka:"):
		return Kafka
	case strings.HasPrefix(t, "amqp:"), strings.HasPrefix(t, "rabbitmq:"):
		return RabbitMQ
	}
	switch {
	case data == nil:
	case has(data, "messageBody"):
		return MNS
	case has(data, "systemProperties", "body"):
		return RocketMQ
	case has(data, "partition", "offset", "value"):
		return Kafka
	case has(data, "envelope", "body"):
		return RabbitMQ
	}
	return ""
}

func decodeCloudEvent(raw []byte, o origin, depth int) []Message {
	var ev cloudEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return []Message{o.ignore(malformed("CloudEvent", err))}
	}
	// The earliest time the envelope states: an event's own time, or the time
	// EventBridge published it when that comes first.
	t := earliest(parseTime(string(ev.Time)), parseTime(string(ev.PublishTime)))
	id := string(ev.ID)
	region := string(ev.RegionID)
	typ := string(ev.Type)
	lower := strings.ToLower(typ)
	switch {
	case strings.HasPrefix(lower, "ecs:"):
		return []Message{decodeECSCloudEvent(ev, t)}
	case strings.HasPrefix(lower, "cms:"):
		return []Message{decodeCMSCloudEvent(ev, t)}
	}
	var data map[string]json.RawMessage
	_ = json.Unmarshal(ev.Data, &data) // not an object: data is the body itself
	kind := queueKind(typ, data)
	if kind == "" {
		o := origin{trigger: Direct, source: "event:" + id, time: t, sourceRegion: region}
		return decodeBody(ev.Data, o, depth+1)
	}
	return decodeQueueData(kind, ev.Data, string(ev.Subject), id, t, region, depth)
}

// decodeRawData decodes the data of a queue event delivered without its envelope
// (the RawData schema), told by its shape (queueKind).
func decodeRawData(obj map[string]json.RawMessage, kind Trigger, o origin, depth int) []Message {
	raw, _ := json.Marshal(obj)
	return decodeQueueData(kind, raw, "", "", o.time, o.sourceRegion, depth)
}

// decodeQueueData finds the message body in the data of a queue event and decodes
// it. subject and id come from the envelope (empty for RawData).
func decodeQueueData(kind Trigger, data json.RawMessage, subject, id string, t time.Time, region string, depth int) []Message {
	o := origin{trigger: kind, time: t, sourceRegion: region}
	var body json.RawMessage
	var err error
	switch kind {
	case MNS:
		var d mnsQueueData
		err = json.Unmarshal(data, &d)
		msgID := string(d.MessageID)
		if msgID == "" {
			msgID = id
		}
		o.source = "mns:" + msgID
		if subject != "" {
			o.source = "mns:" + subject + "/" + msgID
		}
		body = d.MessageBody
	case RocketMQ:
		var d rocketMQData
		err = json.Unmarshal(data, &d)
		o.source = "rocketmq:" + firstNonEmpty(id, str(d.SystemProperties, "UNIQ_KEY"), str(d.SystemProperties, "MSG_ID"), string(d.Topic))
		if o.sourceRegion == "" {
			o.sourceRegion = str(d.SystemProperties, "MSG_REGION")
		}
		body = d.Body
	case Kafka:
		var d kafkaData
		err = json.Unmarshal(data, &d)
		o.source = "kafka:" + id
		if id == "" {
			o.source = "kafka:" + string(d.Topic) + "/" + strconv.FormatInt(int64(d.Partition), 10) + "/" + strconv.FormatInt(int64(d.Offset), 10)
		}
		o.time = earliest(o.time, epochTime(int64(d.Timestamp)))
		body = d.Value
	case RabbitMQ:
		var d rabbitMQData
		err = json.Unmarshal(data, &d)
		o.source = "rabbitmq:" + firstNonEmpty(id, string(d.Props.MessageID))
		body = d.Body
	}
	if err != nil {
		return []Message{o.ignore(malformed(string(kind)+" event data", err))}
	}
	return decodeBody(body, o, depth+1)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
