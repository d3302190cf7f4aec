package events

import "encoding/json"

// mnsTopicEvent is what an MNS topic trigger passes in its JSON form:
//
//	{"TopicOwner": "1186202104331798", "TopicName": "start-ecs",
//	 "Subscriber": "1186202104331798", "SubscriptionName": "fc-start-ecs",
//	 "MessageId": "2F5B3C281B283D4EAC694B742528F0A1", "MessageMD5": "…",
//	 "PublishTime": 1550216302888,
//	 "Message": "{\"regionId\":\"cn-hangzhou\",\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}",
//	 "key": "value"}
//
// Message attributes, when the message has any, are further top-level keys. Message
// is the message body (which may be base64, or a JSON array of start requests: see
// decodeBody); PublishTime is in milliseconds.
//
// In the STREAM form the payload is the message body itself, raw bytes that need not
// be JSON; when the message has attributes it comes as
//
//	{"body": "<message body>", "attrs": {"Extend": "{\"key\":\"value\"}"}}
//
// and the body is `body`. A STREAM payload that is a start request in JSON cannot be
// told from a direct invoke, and is reported as one.
type mnsTopicEvent struct {
	TopicOwner       text            `json:"TopicOwner"`
	TopicName        text            `json:"TopicName"`
	Subscriber       text            `json:"Subscriber"`
	SubscriptionName text            `json:"SubscriptionName"`
	MessageID        text            `json:"MessageId"`
	MessageMD5       text            `json:"MessageMD5"`
	PublishTime      epoch           `json:"PublishTime"`
	Message          json.RawMessage `json:"Message"`
}

func isMNSTopic(obj map[string]json.RawMessage) bool {
	return has(obj, "TopicOwner", "Message") || has(obj, "MessageId", "Message", "TopicName")
}

// decodeMNSTopic decodes an MNS topic notification; o is what carries it, whose
// Source names a notification too malformed to read.
func decodeMNSTopic(raw []byte, o origin, depth int) []Message {
	var ev mnsTopicEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		m := o.ignore(malformed("MNS topic message", err))
		m.Trigger = MNSTopic
		return []Message{m}
	}
	o = origin{
		trigger: MNSTopic,
		source:  "mns-topic:" + string(ev.TopicName) + "/" + string(ev.MessageID),
		time:    epochTime(int64(ev.PublishTime)),
	}
	return decodeBody(ev.Message, o, depth+1)
}

// isStreamWithAttrs reports the STREAM form with attributes: only `body` and `attrs`.
func isStreamWithAttrs(obj map[string]json.RawMessage) bool {
	if _, ok := obj["body"]; !ok {
		return false
	}
	for k := range obj {
		if k != "body" && k != "attrs" {
			return false
		}
	}
	return true
}
