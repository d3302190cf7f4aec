package events

import (
	"encoding/json"
	"strings"
	"time"
)

// ECS reports an instance's state changes (Pending, Starting, Running, Stopping,
// Stopped, Deleted) in two forms. Through EventBridge (source acs.ecs), as a
// CloudEvent:
//
//	{"specversion": "1.0", "id": "45ef4dew-…", "source": "acs.ecs",
//	 "type": "ecs:Instance:StateChange", "subject": "acs:ecs:cn-hangzhou:1234567890123456:instance/i-bp67acfmxazb4p0001",
//	 "time": "2026-11-26T21:04:41+08:00", "aliyunregionid": "cn-hangzhou",
//	 "data": {"resourceId": "i-bp67acfmxazb4p0001", "resourceType": "ALIYUN::ECS::Instance", "state": "Stopped"}}
//
// and as an event notification (CloudMonitor event subscriptions, MNS), often inside
// a queue message:
//
//	{"ver": "1.0", "id": "9435EAD6-…", "product": "ECS", "name": "Instance:StateChange",
//	 "level": "INFO", "regionId": "cn-hangzhou", "userId": "1234567890123456",
//	 "eventTime": "20261126T220114.058+0800",
//	 "resourceId": "acs:ecs:cn-hangzhou:1234567890123456:instance/i-bp67acfmxazb4p0001",
//	 "content": {"resourceId": "i-bp67acfmxazb4p0001", "resourceType": "ALIYUN::ECS::Instance", "state": "Stopped"}}
//
// The CloudEvent's data may also hold the notification itself (the layout above,
// published in some samples): then the state change is data.content
// (content.state, content.resourceId), data.resourceId is the instance's ARN,
// data.regionId its region and data.eventTime its time. Every layout also finds the
// instance in the CloudEvent's subject, acs:ecs:<region>:<account>:instance/<id>.
// The time is the earliest the event states (DESIGN §4).
//
// Either names one instance to start only when its new state is Stopped, and only if
// it carries RESTART_TAG (checked by the handler: RequireRestartTag). Its region is
// the instance's (InstanceRegion): from the resource's ARN
// (acs:ecs:<region>:<account>:instance/<id>), else the event's regionId, else the
// region the event was published in.

// ecsStateData is the data of ecs:Instance:StateChange, and the content of an
// Instance:StateChange notification.
type ecsStateData struct {
	ResourceID   text `json:"resourceId"`
	ResourceType text `json:"resourceType"`
	InstanceID   text `json:"instanceId"`
	State        text `json:"state"`
	RegionID     text `json:"regionId"`
}

// ecsNotification is an ECS event notification; see above.
type ecsNotification struct {
	Ver        text            `json:"ver"`
	ID         text            `json:"id"`
	Product    text            `json:"product"`
	Name       text            `json:"name"`
	Level      text            `json:"level"`
	RegionID   text            `json:"regionId"`
	UserID     text            `json:"userId"`
	EventTime  text            `json:"eventTime"`
	ResourceID text            `json:"resourceId"`
	Content    json.RawMessage `json:"content"`
}

func isECSNotification(obj map[string]json.RawMessage) bool {
	return has(obj, "product", "name", "content") && strings.EqualFold(str(obj, "product"), "ECS")
}

func decodeECSCloudEvent(ev cloudEvent, t time.Time) Message {
	m := Message{Trigger: ECSEvent, Source: "ecs-event:" + string(ev.ID), Time: t,
		SourceRegion: string(ev.RegionID), RequireRestartTag: true}
	if string(ev.Type) != "ecs:Instance:StateChange" {
		m.Ignored = "ECS event " + safe(string(ev.Type)) + " is not a state change"
		return m
	}
	var d ecsStateData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		m.Ignored = malformed("ECS state-change event", err)
		return m
	}
	arns := []string{string(ev.Subject)}
	if d.State == "" {
		// The notification layout inside data: the state change is in
		// data.content; data.resourceId is the instance's ARN, data.regionId its
		// region, data.eventTime when it happened.
		var n ecsNotification
		_ = json.Unmarshal(ev.Data, &n) // read as d was: only content may differ
		if c, ok := contentObject(n.Content); ok {
			var cd ecsStateData
			if err := json.Unmarshal(c, &cd); err != nil {
				m.Ignored = malformed("ECS state-change event", err)
				return m
			}
			cd.RegionID = text(firstNonEmpty(string(cd.RegionID), string(n.RegionID)))
			arns = []string{string(n.ResourceID), string(ev.Subject)}
			m.Time = earliest(t, parseTime(string(n.EventTime)))
			d = cd
		}
	}
	return d.message(m, string(ev.RegionID), arns...)
}

func decodeECSNotification(raw []byte, o origin) Message {
	m := Message{Trigger: ECSEvent, Source: o.source, Time: o.time, SourceRegion: o.sourceRegion, RequireRestartTag: true}
	var n ecsNotification
	if err := json.Unmarshal(raw, &n); err != nil {
		m.Ignored = malformed("ECS event notification", err)
		return m
	}
	m.Source = "ecs-event:" + string(n.ID)
	m.Time = earliest(o.time, parseTime(string(n.EventTime)))
	if string(n.Name) != "Instance:StateChange" {
		m.Ignored = "ECS event " + safe(string(n.Name)) + " is not a state change"
		return m
	}
	var d ecsStateData
	c, ok := contentObject(n.Content)
	if !ok {
		m.Ignored = "malformed ECS event notification: field content is not an object"
		return m
	}
	if err := json.Unmarshal(c, &d); err != nil {
		m.Ignored = malformed("ECS event notification", err)
		return m
	}
	if d.RegionID == "" {
		d.RegionID = n.RegionID
	}
	return d.message(m, o.sourceRegion, string(n.ResourceID))
}

// contentObject returns a notification's content: a JSON object, or a string
// holding one (as some subscriptions deliver it).
func contentObject(c json.RawMessage) ([]byte, bool) {
	c = trimJSONSpace(c)
	if s, ok := jsonString(c); ok {
		c = trimJSONSpace([]byte(s))
	}
	return c, len(c) > 0 && c[0] == '{' && json.Valid(c)
}

// message completes m from the state change: the instance, its region, and whether
// its new state asks for a start. arns are the envelope's resource names, if any
// (the notification's resourceId, the CloudEvent's subject), tried in order after
// the state change's own resourceId; published is the region the event was
// published in.
func (d ecsStateData) message(m Message, published string, arns ...string) Message {
	id, region := string(d.InstanceID), ""
	for _, s := range append([]string{string(d.ResourceID)}, arns...) {
		r, i := parseInstanceARN(s)
		if region == "" {
			region = r
		}
		if id == "" {
			id = i
		}
	}
	if region == "" {
		region = firstNonEmpty(string(d.RegionID), published)
	}
	switch {
	case id == "":
		m.Ignored = "ECS state-change event names no instance"
	case d.State == "":
		m.Ignored = "ECS state-change event names no state"
	case !strings.EqualFold(string(d.State), "Stopped"):
		m.Ignored = "state changed to " + safe(string(d.State)) + ", not Stopped"
		m.Named = []string{id}
	default:
		m.Request.InstanceIDs = []string{id}
		m.InstanceRegion = region
	}
	return m
}

// parseInstanceARN reads an instance's region and ID from its resource name,
// acs:ecs:<region>:<account>:instance/<id>; a bare ID (i-…) gives the ID alone.
// Nothing is trimmed: the ID goes to validation as the event states it.
func parseInstanceARN(s string) (region, id string) {
	if strings.HasPrefix(s, "i-") {
		return "", s
	}
	parts := strings.SplitN(s, ":", 5)
	if len(parts) != 5 || parts[0] != "acs" || parts[1] != "ecs" {
		return "", ""
	}
	res, ok := strings.CutPrefix(parts[4], "instance/")
	if !ok {
		return parts[2], ""
	}
	return parts[2], res
}
