package events

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// A CloudMonitor (CMS) threshold alarm reaches the function three ways: as the alarm
// callback, an HTTP POST with a form body (application/x-www-form-urlencoded),
//
//	alertName=cpu-low&alertState=ALERT&curValue=0.5&metricName=CPUUtilization
//	&metricProject=acs_ecs_dashboard&namespace=acs_ecs_dashboard&userId=1234567890123456
//	&dimensions={userId=1234567890123456, instanceId=i-bp67acfmxazb4p0001}
//	&expression=$Average<1&instanceName=web-1&ruleId=…&timestamp=1764118800000&triggerLevel=WARN
//
// as the same fields in a JSON object (an MNS message, a JSON callback), and through
// EventBridge (source acs.cloudmonitor, type cms:…, the alarm's fields in data).
//
// dimensions names the alarm's object: the text form {userId=…, instanceId=i-…}, or
// JSON ({"instanceId": "i-…"} or [{"userId": "…", "instanceId": "i-…"}, …]). An alarm
// starts its instances only when alertState is ALERT (ALARM in older alarms); OK and
// INSUFFICIENT_DATA are Ignored. Only dimensions that name an ECS instance (i-…)
// count: an alarm on another product's instanceId (an RDS rm-…) names nothing here.
type cmsAlarm struct {
	AlertName     text            `json:"alertName"`
	AlertState    text            `json:"alertState"`
	CurValue      text            `json:"curValue"`
	Dimensions    json.RawMessage `json:"dimensions"`
	Expression    text            `json:"expression"`
	InstanceName  text            `json:"instanceName"`
	MetricName    text            `json:"metricName"`
	MetricProject text            `json:"metricProject"`
	Namespace     text            `json:"namespace"`
	RuleID        text            `json:"ruleId"`
	TriggerLevel  text            `json:"triggerLevel"`
	UserID        text            `json:"userId"`
	RegionID      text            `json:"regionId"`
	Timestamp     epoch           `json:"timestamp"`
	// Resources, when an alarm event lists them, are instance IDs or their ARNs.
	Resources json.RawMessage `json:"resources"`
}

func isCMSAlarm(obj map[string]json.RawMessage) bool {
	return has(obj, "alertState")
}

func decodeCMSAlarmJSON(raw []byte, o origin) Message {
	var a cmsAlarm
	if err := json.Unmarshal(raw, &a); err != nil {
		m := o.ignore(malformed("CloudMonitor alarm", err))
		m.Trigger = CMSAlarm
		return m
	}
	// The alarm names itself (ruleId) and its time; an envelope around it, if any,
	// overrides its name and may bring an earlier time (see nested).
	return a.message(origin{sourceRegion: o.sourceRegion}, "")
}

func decodeCMSCloudEvent(ev cloudEvent, t time.Time) Message {
	o := origin{trigger: CMSAlarm, source: "cms-alarm:" + string(ev.ID), time: t, sourceRegion: string(ev.RegionID)}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data, &data); err != nil || !isCMSAlarm(data) {
		return o.ignore("CloudMonitor event " + safe(string(ev.Type)) + " is not an alarm")
	}
	var a cmsAlarm
	if err := json.Unmarshal(ev.Data, &a); err != nil {
		return o.ignore(malformed("CloudMonitor alarm", err))
	}
	return a.message(o, string(ev.Subject))
}

// cmsAlarmFromValues reads the form body of an alarm callback.
func cmsAlarmFromValues(v url.Values) cmsAlarm {
	a := cmsAlarm{
		AlertName: text(v.Get("alertName")), AlertState: text(v.Get("alertState")),
		CurValue: text(v.Get("curValue")), Expression: text(v.Get("expression")),
		InstanceName: text(v.Get("instanceName")), MetricName: text(v.Get("metricName")),
		MetricProject: text(v.Get("metricProject")), Namespace: text(v.Get("namespace")),
		RuleID: text(v.Get("ruleId")), TriggerLevel: text(v.Get("triggerLevel")),
		UserID: text(v.Get("userId")), RegionID: text(v.Get("regionId")),
	}
	if d := v.Get("dimensions"); d != "" {
		a.Dimensions = mustJSON(d)
	}
	_ = a.Timestamp.UnmarshalJSON(mustJSON(v.Get("timestamp")))
	return a
}

// message turns the alarm into a Message based on o (whose source, when set, wins
// over the alarm's own; the earlier of o's time and the alarm's counts). subject is an EventBridge event's subject, used
// when the alarm's dimensions name no instance.
func (a cmsAlarm) message(o origin, subject string) Message {
	m := o.message()
	m.Trigger = CMSAlarm
	if m.Source == "" {
		if id := firstNonEmpty(string(a.RuleID), string(a.AlertName)); id != "" {
			m.Source = "cms-alarm:" + id
		} else {
			m.Source = "cms-alarm"
		}
	}
	m.Time = earliest(m.Time, epochTime(int64(a.Timestamp)))
	state := strings.TrimSpace(string(a.AlertState))
	if !strings.EqualFold(state, "ALERT") && !strings.EqualFold(state, "ALARM") {
		if state == "" {
			state = "missing"
		}
		m.Ignored = "alarm state " + safe(state)
		m.Named, _ = a.instances()
		return m
	}
	ids, region := a.instances()
	if len(ids) == 0 {
		if r, id := parseInstanceARN(subject); id != "" {
			ids, region = []string{id}, r
		}
	}
	if len(ids) == 0 {
		m.Ignored = "alarm names no ECS instance (no instanceId i-… in its dimensions)"
		return m
	}
	m.Request.InstanceIDs = ids
	m.InstanceRegion = firstNonEmpty(region, string(a.RegionID))
	return m
}

// instances returns the ECS instance IDs the alarm's dimensions and resources name,
// in order, and a region when a dimension states one.
func (a cmsAlarm) instances() (ids []string, region string) {
	var dims []map[string]string
	raw := trimJSONSpace(a.Dimensions)
	if s, ok := jsonString(raw); ok {
		raw = trimJSONSpace([]byte(s))
		if !json.Valid(raw) {
			dims = parseTextDimensions(s)
			raw = nil
		}
	}
	if len(raw) > 0 {
		var one map[string]text
		var many []map[string]text
		if json.Unmarshal(raw, &one) == nil {
			many = []map[string]text{one}
		} else {
			_ = json.Unmarshal(raw, &many)
		}
		for _, d := range many {
			m := make(map[string]string, len(d))
			for k, v := range d {
				m[k] = string(v)
			}
			dims = append(dims, m)
		}
	}
	for _, d := range dims {
		for k, v := range d {
			switch {
			// As stated: nothing is trimmed (DESIGN §5); the text form's own
			// separators were dropped by parseTextDimensions.
			case strings.EqualFold(k, "instanceId") && strings.HasPrefix(v, "i-"):
				ids = append(ids, v)
			case strings.EqualFold(k, "regionId") && region == "":
				region = v
			}
		}
	}
	var resources []text
	_ = json.Unmarshal(a.Resources, &resources)
	for _, r := range resources {
		if reg, id := parseInstanceARN(string(r)); id != "" {
			ids = append(ids, id)
			if region == "" {
				region = reg
			}
		}
	}
	return ids, region
}

// parseTextDimensions reads the text form of dimensions, {userId=1, instanceId=i-…};
// several groups ({…},{…}) give several maps.
func parseTextDimensions(s string) []map[string]string {
	var out []map[string]string
	for _, group := range strings.Split(s, "}") {
		group = strings.Trim(strings.TrimSpace(group), "{},[] ")
		if group == "" {
			continue
		}
		d := map[string]string{}
		for _, kv := range strings.Split(group, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				k, v, ok = strings.Cut(kv, ":")
			}
			if ok {
				d[strings.Trim(strings.TrimSpace(k), `"`)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
		out = append(out, d)
	}
	return out
}
