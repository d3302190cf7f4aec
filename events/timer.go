package events

import (
	"bytes"
	"encoding/json"
)

// timerEvent is what a timer trigger passes to the function:
//
//	{"triggerTime": "2022-07-29T10:02:58Z", "triggerName": "morning-start",
//	 "payload": "{\"regionId\":\"cn-hangzhou\",\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}
//
// The payload is the string configured on the trigger; it holds a start request as
// JSON, or in the ECS query spelling (RegionId=…&InstanceId.1=…). An empty payload,
// or one that is neither, names nothing: Ignored.
type timerEvent struct {
	TriggerTime string          `json:"triggerTime"`
	TriggerName string          `json:"triggerName"`
	Payload     json.RawMessage `json:"payload"`
}

func isTimer(obj map[string]json.RawMessage) bool {
	return has(obj, "triggerTime", "triggerName")
}

func decodeTimer(raw []byte, depth int) Message {
	var ev timerEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return directOrigin.ignore(malformed("timer event", err))
	}
	o := origin{trigger: Timer, source: "timer:" + ev.TriggerName, time: parseTime(ev.TriggerTime)}
	payload := bytes.TrimSpace(ev.Payload)
	if s, ok := jsonString(payload); ok {
		payload = bytes.TrimSpace([]byte(s))
	}
	switch {
	case len(payload) == 0 || string(payload) == "null":
		return o.ignore("timer payload is empty")
	case !json.Valid(payload):
		if vals, ok := ecsQuery(payload); ok {
			return valuesMessage(vals, o)
		}
		return o.ignore("timer payload is not JSON")
	}
	m := decodeBody(payload, o, depth+1)
	if m.Ignored == ReasonNotRequest {
		m.Ignored = "timer payload is not a start request"
	}
	return m
}
