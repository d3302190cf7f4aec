package events

import "encoding/json"

// timerEvent is what a timer trigger passes to the function:
//
//	{"triggerTime": "2022-07-29T10:02:58Z", "triggerName": "morning-start",
//	 "payload": "{\"regionId\":\"cn-hangzhou\",\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}"}
//
// The payload is the string configured on the trigger; it holds a start request as
// JSON, as base64 of JSON, or in the ECS query spelling (RegionId=…&InstanceId.1=…),
// or a JSON array of start requests, which gives one Message per element (see
// decodeBody). An empty payload, or one that is none of these, names nothing:
// Ignored.
type timerEvent struct {
	TriggerTime string          `json:"triggerTime"`
	TriggerName string          `json:"triggerName"`
	Payload     json.RawMessage `json:"payload"`
}

func isTimer(obj map[string]json.RawMessage) bool {
	return has(obj, "triggerTime", "triggerName")
}

// decodeTimer decodes a timer event; o is what carries it, whose Source names an
// event too malformed to read.
func decodeTimer(raw []byte, o origin, depth int) []Message {
	var ev timerEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return []Message{o.ignore(malformed("timer event", err))}
	}
	o = origin{trigger: Timer, source: "timer:" + ev.TriggerName, time: parseTime(ev.TriggerTime), operator: true}
	payload, depth := unwrapBody(ev.Payload, depth+1)
	switch {
	case len(payload) == 0 || string(payload) == "null":
		return []Message{o.ignore("timer payload is empty")}
	case !json.Valid(payload):
		if meantAsJSON(payload) {
			// The operator wrote it: say where it breaks (DESIGN §4).
			return []Message{o.malformedJSON(payload)}
		}
		if _, ok := ecsQuery(payload); !ok {
			return []Message{o.ignore("timer payload is not JSON")}
		}
	}
	msgs := decodeBody(payload, o, depth)
	for i := range msgs {
		if msgs[i].Ignored == ReasonNotRequest {
			msgs[i].Ignored = "timer payload is not a start request"
		}
	}
	return msgs
}
