// Package events turns the payloads of Function Compute triggers — direct invokes,
// timers, HTTP requests, EventBridge CloudEvents from message queues, MNS topic
// messages, ECS state-change events and CloudMonitor alarms — into start requests.
//
// Decoding never fails an invocation: a payload or message that names nothing to
// start becomes a Message with Ignored set, so that the caller can report it.
// Where the operator wrote the payload (a direct invoke, a timer's payload, an HTTP
// body), a JSON object that is neither a start request nor a known event, and an
// element of a JSON array that is not one, is Ignored with Errors naming its fields
// or the element (DESIGN §4); a queue's message body that names nothing is Ignored
// without.
//
// A key given twice in one JSON object is never resolved by picking one of its
// values, since a gateway that checked the first would then see another request
// than the one run (DESIGN §5). In a start request it is a defect naming the key
// ("instanceIds", "extra.a"): the request is refused whole, and the IDs of every
// occurrence are kept so that each is reported. In an envelope (a CloudEvent, a
// timer event, an MNS topic message, an ECS or CloudMonitor event, a queue's
// RawData), anywhere in it and in any letter case, it makes the envelope malformed:
// one Ignored message naming the key, nothing it carries decoded; ParseHTTP
// returns an error for an HTTP trigger event (a 400). This holds in every spelling
// of a body: JSON, a string holding JSON, base64 of JSON.
//
// Values are taken as sent: nothing in a request is trimmed (DESIGN §5).
package events

import (
	"strconv"
	"strings"
	"time"
)

// Trigger names the kind of event a message came from; it is logged as `trigger`.
type Trigger string

// The triggers of DESIGN §5.
const (
	Direct   Trigger = "direct"
	Timer    Trigger = "timer"
	HTTP     Trigger = "http"
	MNS      Trigger = "mns"
	MNSTopic Trigger = "mns-topic"
	RocketMQ Trigger = "rocketmq"
	Kafka    Trigger = "kafka"
	RabbitMQ Trigger = "rabbitmq"
	ECSEvent Trigger = "ecs-event"
	CMSAlarm Trigger = "cms-alarm"
)

// StartRequest is one request to start instances, in its canonical (lower-camel)
// spelling, as decoded and before validation. Both spellings of DESIGN §3 decode
// into it; the handler validates and normalises it.
type StartRequest struct {
	RegionID    string   `json:"regionId,omitempty"`
	InstanceIDs []string `json:"instanceIds"`
	// Misnamed are the instance IDs (i-…) in the value of an unknown field,
	// a misspelt instanceIds ("instanceID": […]): the request is refused,
	// and they are named with the refusal, never started (DESIGN §4).
	Misnamed          []string `json:"-"`
	BatchOptimization string   `json:"batchOptimization,omitempty"`
	DryRun            bool     `json:"dryRun,omitempty"`
	// DryRunSet says whether the request sent dryRun (true or false), so
	// that an explicit false in a target or group is not overridden by an
	// outer dryRun, which is only a default (DESIGN §3.1, outer fields).
	DryRunSet bool `json:"-"`
	// NotAfter is an RFC 3339 time, kept as sent so that validation can name it.
	NotAfter string `json:"notAfter,omitempty"`
	// Tags select instances by tag (DESIGN §3.1): without InstanceIDs, every
	// instance of the region that carries all the pairs; with them, only
	// those of the named that do. Nil when the request has no tags; not nil
	// but empty when it sent an empty list (a defect the validator names).
	Tags []TagFilter `json:"tags,omitempty"`
	// Wait is the request's wait as sent (DESIGN §3.1): "true", "false", or
	// a duration such as "90s"; empty when absent. The validator judges it.
	Wait string `json:"wait,omitempty"`
	// SkipDates are the dates ("2026-12-25") on which the request is not
	// carried out, judged in TimeZone (DESIGN §3.1); as sent, the validator
	// judges them. Nil when absent.
	SkipDates []string `json:"skipDates,omitempty"`
	// TimeZone is the IANA zone of SkipDates as sent ("Asia/Shanghai");
	// empty: TIME_ZONE, else UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// RoleArn names a role of another account (DESIGN §3.1) through which
	// the request's instances are reached; as sent.
	RoleArn string `json:"roleArn,omitempty"`
	// Targets are the start requests of a request with targets (DESIGN
	// §3.1), each decoded like a request; nil when absent, empty when sent
	// empty. Their defects are in the outer request's, named
	// targets[i].<field>.
	Targets []StartRequest `json:"targets,omitempty"`
	// Sequence are the groups of a request started in order (DESIGN
	// §3.1), each decoded like a request; nil when absent. Their defects
	// are in the outer request's, named sequence[i].<field>.
	Sequence []StartRequest `json:"sequence,omitempty"`
	// WorkDates are make-up working days ("2027-02-20") that `workdays`
	// schedules add (DESIGN §3.2); as sent, judged by the validator. Nil
	// when absent. JSON spelling only, like SkipDates.
	WorkDates []string `json:"workDates,omitempty"`
	// Schedule asks for the instances of the scope whose tag says they are
	// due (DESIGN §3.2); nil when absent.
	Schedule *ScheduleSpec `json:"schedule,omitempty"`
	// Preview is a period ("7d", 1h to 31d) as sent: the answer lists each
	// scheduled instance's next start times instead of starting any
	// (DESIGN §3.2). Empty when absent.
	Preview string `json:"preview,omitempty"`

	// TagFields, when not nil, names Tags[i] as the caller spelled it:
	// "tags[0]" (a JSON array) or "Tag.1" (ECS's Tag.N.Key/Tag.N.Value, with
	// the caller's own N). Nil means "tags[i]". See TagField.
	TagFields []string `json:"-"`

	// IDFields, when not nil, holds for each InstanceIDs[i] the field that
	// named it as the caller spelled it: "instanceIds[0]" (a JSON array),
	// "InstanceId[1]" (the InstanceId=["…"] form), "InstanceId.3" (the indexed
	// form, with the caller's own N). Errors about an ID name this field
	// (DESIGN §5). Nil means "instanceIds[i]".
	IDFields []string `json:"-"`
	// FieldNames maps a canonical field (regionId, batchOptimization, …) to
	// the spelling the caller used where it differs (RegionId, …), so that
	// errors name the field as sent.
	FieldNames map[string]string `json:"-"`
	// DefaultBatch is the batch optimisation the request's spelling implies
	// when nothing sets one (DESIGN §3): AllTogether, ECS's documented
	// default, when it names instance IDs in ECS's spelling (InstanceId,
	// InstanceId.N, InstanceId=["…"]); empty (SuccessFirst) in the
	// function's spelling (instanceIds) and for a tag selection without
	// IDs. BatchOptimization, the request's own or one inherited, wins.
	DefaultBatch string `json:"-"`
}

// Batch is the batch optimisation the request asks for: its own
// BatchOptimization, else the default of its spelling (DefaultBatch), else
// "" (SuccessFirst).
func (r StartRequest) Batch() string {
	if r.BatchOptimization != "" {
		return r.BatchOptimization
	}
	return r.DefaultBatch
}

// IDField names InstanceIDs[i] as the caller spelled it.
func (r StartRequest) IDField(i int) string {
	if i >= 0 && i < len(r.IDFields) {
		return r.IDFields[i]
	}
	return "instanceIds[" + strconv.Itoa(i) + "]"
}

// TagField names part ("key" or "value") of Tags[i] as the caller spelled
// it: "tags[0].key", or "Tag.1.Key" in ECS's spelling.
func (r StartRequest) TagField(i int, part string) string {
	base := "tags[" + strconv.Itoa(i) + "]"
	if i >= 0 && i < len(r.TagFields) {
		base = r.TagFields[i]
	}
	if strings.HasPrefix(base, tagPrefix) {
		// ECS's spelling capitalises the part: Tag.1.Key, Tag.1.Value.
		return base + "." + strings.ToUpper(part[:1]) + part[1:]
	}
	return base + "." + part
}

// ScheduleSpec is the schedule object of a request (DESIGN §3.2), its values
// as sent: the validator judges them.
type ScheduleSpec struct {
	// TagKey is the tag whose value is each instance's schedule; empty:
	// SCHEDULE_TAG_KEY, else start-schedule.
	TagKey string `json:"tagKey,omitempty"`
	// Every is the timer's period, a duration such as "5m".
	Every string `json:"every,omitempty"`
	// TagKeySet says tagKey was sent (even "", which is then a defect).
	TagKeySet bool `json:"-"`
	// TagKeyField and EveryField name the parts as the caller spelled
	// them ("schedule.tagKey", "Schedule.Every"); empty when not sent.
	TagKeyField string `json:"-"`
	EveryField  string `json:"-"`
}

// TagFilter is one pair of a request's tags. A pair without a value (Value
// nil) matches every value of its key; a value, even "", only itself.
type TagFilter struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// String renders the pair for messages: key=value, or key=* for any value.
func (t TagFilter) String() string {
	if t.Value == nil {
		return t.Key + "=*"
	}
	return t.Key + "=" + *t.Value
}

// FieldName names a canonical field as the caller spelled it.
func (r StartRequest) FieldName(canonical string) string {
	if n, ok := r.FieldNames[canonical]; ok {
		return n
	}
	return canonical
}

// FieldError is a defect of a request found while decoding, named by the JSON field
// it concerns (for example "regionId" for mixed spellings, "dryRun" for a non-boolean).
type FieldError struct {
	Field   string `json:"Field"`
	Message string `json:"Message"`
	// Elem is 1 + the index in Request.InstanceIDs of the ID this defect
	// concerns, 0 when it concerns no single ID: code finds the ID from it,
	// never by parsing Field.
	Elem int `json:"-" xml:"-"`
}

// Index returns the index in Request.InstanceIDs of the ID the defect
// concerns; ok is false when it concerns none.
func (e FieldError) Index() (i int, ok bool) { return e.Elem - 1, e.Elem > 0 }

// Message is one unit of work found in an event: a start request, or the reason
// there is none.
type Message struct {
	Trigger Trigger
	// Source identifies the event or message for the logs, e.g.
	// "mns:acs:mns:cn-hangzhou:123:queues/zeus/C6DB60D1…" or "timer:TestTimer".
	// The forms: "direct", "timer:<triggerName>", "http:<requestId>",
	// "mns:<subject>/<messageId>", "mns-topic:<TopicName>/<MessageId>",
	// "mns-topic:stream", "rocketmq:<event id>", "kafka:<event id>",
	// "rabbitmq:<event id>", "ecs-event:<event id>", "cms-alarm:<event id or ruleId>",
	// "event:<event id>" (another CloudEvent). An event carried inside a queue
	// message keeps the message's Source.
	//
	// A message found in element i of a JSON array has the Source of what holds the
	// array with "[i]" appended, whether it names instances or is Ignored: the
	// elements of a message body that is an array ("mns:<subject>/<messageId>[1]",
	// "timer:<triggerName>[0]"), and the elements of a batch payload or HTTP body
	// that have no ID of their own: start requests and whatever names nothing
	// ("direct[1]", "http:<requestId>[0]"). An event in a batch keeps its own
	// ("rocketmq:<event id>"). Arrays inside arrays add an index each
	// ("direct[2][0]"); an event carried inside a queue message whose own body is
	// an array gives the message's Source with the index of each of its messages.
	Source string
	// Time is when the event was produced (timer triggerTime, CloudEvent time, HTTP
	// requestContext.timeEpoch, MNS PublishTime); zero when the event does not say.
	Time time.Time

	// Ignored, when not empty, says why this message names nothing to start
	// (unparsable body, a state change to a state other than Stopped, an alarm
	// back to OK). Request is then empty.
	Ignored string
	// Named are the instances an ignored message names without asking to
	// start them (a state change to Running, an alarm back to OK): listed
	// with its Ignored entry, so that no instance an event names goes
	// missing from the result.
	Named []string

	Request StartRequest
	// Errors are defects found while decoding; a request with any is invalid and
	// refused whole (its instances are Rejected with InvalidParameter). With
	// Ignored set, Errors mark a payload the operator wrote (a timer payload,
	// a direct invoke, an HTTP body) that is not a start request nor a known
	// event: refused like an invalid request (HTTP 400; elsewhere an Ignored
	// entry logged at WARN), the errors naming the unknown fields (DESIGN §4).
	Errors []FieldError

	// InstanceRegion is the region the event states for its instance (ECS
	// state-change events, CloudMonitor alarms); it wins over DEFAULT_REGION_ID.
	InstanceRegion string
	// SourceRegion is the region of the event's source (EventBridge
	// `aliyunregionid`); it comes after DEFAULT_REGION_ID.
	SourceRegion string
	// RequireRestartTag is set for ECS state-change events: the instance is started
	// only if it carries the tag RESTART_TAG names.
	RequireRestartTag bool
}
