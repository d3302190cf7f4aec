package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds the nesting Decode follows: batches inside batches, bodies that are
// JSON strings holding JSON, base64 of JSON, events carried inside queue messages.
const maxDepth = 8

// Reasons of Ignored messages that callers and tests may compare against. They never
// quote a body: they are logged.
const (
	ReasonUnknownPayload = "payload is not a start request nor a known event"
	ReasonNotRequest     = "message body is not a start request"
	ReasonEmptyBody      = "message body is empty"
	ReasonEmptyPayload   = "payload is empty"
	ReasonEmptyBatch     = "batch is empty"
	// ReasonMalformedJSON comes with one error naming what breaks (the
	// payload, an element "[1]") and where, so that the reason a log line or a
	// result gives ("not valid JSON: payload: unexpected end of JSON input at
	// byte 52 of 52") says it once.
	ReasonMalformedJSON = "not valid JSON"
)

// origin is what an envelope tells about the messages it carries: the defaults of
// every Message decoded from its body.
type origin struct {
	trigger      Trigger
	source       string
	time         time.Time
	sourceRegion string
	// operator is set where the operator wrote the payload (a direct invoke, a
	// timer's payload, an HTTP body): there a JSON object that is neither a start
	// request nor a known event is a mistake, reported with Errors (DESIGN §4).
	operator bool
	// path locates the element being decoded within the operator's payload
	// ("[1]", "[2][0]"); "" for the payload itself.
	path string
}

func (o origin) message() Message {
	return Message{Trigger: o.trigger, Source: o.source, Time: o.time, SourceRegion: o.sourceRegion}
}

func (o origin) ignore(reason string) Message {
	m := o.message()
	m.Ignored = reason
	return m
}

// at is the origin of element i of an array that o's payload or body holds: o with
// "[i]" appended to its source.
func (o origin) at(i int) origin {
	o.source += "[" + strconv.Itoa(i) + "]"
	o.path += "[" + strconv.Itoa(i) + "]"
	return o
}

// nothing is o.ignore for what names nothing to start. An element of an array the
// operator wrote ([1,2], [{"instanceIds":[…]}, 5]) is a mistake, not news to skip:
// it carries an error naming the element, DESIGN §4.
func (o origin) nothing(reason string) Message {
	m := o.ignore(reason)
	if o.operator && o.path != "" {
		m.Errors = []FieldError{{Field: o.path, Message: "is not a start request nor a known event"}}
	}
	return m
}

// utf8BOM is the byte order mark some editors put before a file's text.
var utf8BOM = []byte("\ufeff")

// meantAsJSON says whether text that is not valid JSON was meant as JSON: it
// opens an object or an array, after white space of any kind and a byte
// order mark, if any (JSON allows neither, DESIGN §5).
func meantAsJSON(raw []byte) bool {
	raw = bytes.TrimLeftFunc(raw, isStraySpace)
	return len(raw) > 0 && (raw[0] == '{' || raw[0] == '[')
}

// isStraySpace is white space as Unicode knows it, or a byte order mark:
// what an editor or a copy from a web page puts around text.
func isStraySpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// straySpace finds the first rune around raw, past JSON's own white space,
// that is white space to Unicode but not to JSON (U+00A0, U+0085, \f, \v, a
// byte order mark), and says whether it leads.
func straySpace(raw []byte) (r rune, leads, found bool) {
	raw = trimJSONSpace(raw)
	if r, _ := utf8.DecodeRune(raw); isStraySpace(r) {
		return r, true, true
	}
	if r, _ := utf8.DecodeLastRune(raw); isStraySpace(r) {
		return r, false, true
	}
	return 0, false, false
}

// malformedJSON reports a payload the operator wrote (a direct invoke, a
// timer's payload) that was meant as JSON and does not parse: a mistake to
// be seen, not news to skip (DESIGN §4), with an error that says where it
// breaks but never quotes it.
func (o origin) malformedJSON(raw []byte) Message {
	m := o.ignore(ReasonMalformedJSON)
	field := o.path
	if field == "" {
		field = "payload"
	}
	m.Errors = []FieldError{{Field: field, Message: jsonDefect(raw)}}
	return m
}

// jsonDefect says why raw is not valid JSON, and where, without quoting it
// and without saying "not valid JSON" (the reason or the caller says that).
func jsonDefect(raw []byte) string {
	if bytes.HasPrefix(raw, utf8BOM) {
		return "starts with a byte order mark (U+FEFF); save it without one"
	}
	if r, leads, ok := straySpace(raw); ok {
		where := "ends"
		if leads {
			where = "starts"
		}
		return fmt.Sprintf("%s with %U, which JSON does not take for white space (only space, tab, line feed and carriage return)", where, r)
	}
	var v any
	err := json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d of %d", safe(se.Error()), se.Offset, len(raw))
	}
	return fmt.Sprintf("breaks somewhere in its %d bytes", len(raw))
}

// unknownObject reports a JSON object that is neither a start request nor a known
// event: Ignored, and, where the operator wrote it, with an error naming each of
// its fields (DESIGN §4), or saying that it names nothing when it has none.
func (o origin) unknownObject(fields []field, reason string) Message {
	m := o.ignore(reason)
	if !o.operator {
		return m
	}
	var seen foldSet
	for _, f := range fields {
		msg := "unknown field"
		if _, dup := seen.add(f.key); dup {
			msg = msgDuplicate
		}
		m.Errors = append(m.Errors, FieldError{Field: joinPath(o.path, safe(f.key)), Message: msg})
	}
	if len(m.Errors) == 0 {
		m.Errors = []FieldError{{Field: joinPath(o.path, fieldIDs),
			Message: "missing: the object names nothing to start (send instanceIds, or a known event)"}}
	}
	return m
}

// joinPath appends a key to a path within a JSON document: "foo", "[1].foo".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var directOrigin = origin{trigger: Direct, source: "direct", operator: true}

// Decode turns the payload of any invocation that is not an HTTP trigger event into
// messages: always at least one; a payload that names nothing is one Message with
// Ignored set. It never fails and never panics, whatever the bytes.
//
// The payload's form is told by its keys, in this order:
//
//   - a JSON array: a batch (RocketMQ, RabbitMQ, MNS event streams); each element is
//     decoded on its own, and an element that is a string holding JSON is decoded as
//     that JSON (Kafka's batches come as an array of strings). An element that is not
//     an event with an ID of its own (a start request, a batch, anything ignored)
//     has the batch's Source with its index appended: "direct[1]";
//   - a CloudEvent (`specversion`, or `id`+`type`+`source`+`data`): see cloudevents.go;
//   - a timer event (`triggerTime`, `triggerName`, `payload`): see timer.go;
//   - an MNS topic notification (`TopicOwner`, `Message`, `MessageId`, …) or its STREAM
//     form with attributes (`{"body": …, "attrs": …}`): see mns_topic.go;
//   - an ECS event notification (`product` ECS, `name`, `content`): see ecs_state.go;
//   - a CloudMonitor alarm (`alertState`, `dimensions`): see cms_alarm.go;
//   - the `data` of a queue event delivered alone (EventBridge's RawData schema):
//     MNS (`messageBody`), RocketMQ (`systemProperties`+`body`), Kafka
//     (`partition`+`offset`+`value`), RabbitMQ (`envelope`+`body`);
//   - a start request in either spelling (request.go);
//   - bytes that are not JSON: the STREAM form of an MNS topic trigger, a raw message
//     body (base64 of JSON is accepted, DESIGN §4).
//
// Anything else is one Message{Trigger: Direct, Ignored: ReasonUnknownPayload}.
func Decode(payload []byte) []Message {
	return decodeValue(payload, directOrigin, 0, true)
}

// streamOrigin is the origin of a payload that is a raw message body: only the STREAM
// form of an MNS topic trigger delivers those.
var streamOrigin = origin{trigger: MNSTopic, source: "mns-topic:stream"}

// rawStream decodes a payload that is not a JSON object or array. When its bytes hold
// a start request or an event (base64 of JSON, say) it is an MNS topic message in the
// STREAM form; otherwise it is a payload nothing recognises. The STREAM form comes
// alone: an element of a batch, or an HTTP body, is decoded as a body based on o.
func rawStream(body []byte, o origin, depth int) []Message {
	if vals, ok := ecsQuery(body); ok {
		// A query string invoked directly (s invoke, a console test event) is
		// far likelier than one published to a topic in STREAM form.
		return []Message{valuesMessage(vals, o)}
	}
	so := streamOrigin
	if o.source != directOrigin.source {
		so = o
	}
	msgs := decodeValue(body, so, depth+1, false)
	if len(msgs) == 1 && (msgs[0].Ignored == ReasonNotRequest || msgs[0].Ignored == ReasonEmptyBody) {
		return []Message{o.nothing(ReasonUnknownPayload)}
	}
	return msgs
}

// decodeObject classifies one JSON object by its keys and decodes it: one Message,
// or several when it is an envelope whose body is a batch. unknown is the reason
// given when nothing recognises it; an envelope too malformed to read is ignored
// under o's Source.
//
// A key given twice (DESIGN §5) never has one of its values picked: in a start
// request it is a defect that refuses the request whole, naming the key; in an
// envelope (a CloudEvent, a timer event, an MNS topic message, an ECS or
// CloudMonitor event, a queue's RawData), anywhere in it and in any letter case
// (Go's JSON decoder matches a struct's fields in any case), it makes the
// envelope malformed: Ignored, naming the key, and nothing it carries is decoded.
// Bodies that are strings holding JSON are checked when decoded in their turn.
func decodeObject(raw []byte, o origin, depth int, unknown string) []Message {
	fields, err := scanObject(raw) // decodeValue has checked raw
	if err != nil {
		return []Message{o.nothing(unknown)}
	}
	return decodeFields(raw, fields, o, depth, unknown)
}

// decodeFields is decodeObject of the object raw whose fields are read.
func decodeFields(raw []byte, fields []field, o origin, depth int, unknown string) []Message {
	// One reading of the object serves both: its fields in order, and
	// obj, the last value of each key, as json.Unmarshal into a map gives.
	obj := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		obj[f.key] = f.val
	}
	var (
		kind   string
		decode func() []Message
	)
	switch {
	case isCloudEvent(obj):
		kind, decode = "CloudEvent", func() []Message { return decodeCloudEvent(raw, o, depth) }
	case isTimer(obj):
		kind, decode = "timer event", func() []Message { return decodeTimer(raw, o, depth) }
	case isMNSTopic(obj):
		kind, decode = "MNS topic message", func() []Message { return decodeMNSTopic(raw, o, depth) }
	case isStreamWithAttrs(obj):
		kind, decode = "MNS topic message", func() []Message { return decodeBody(obj["body"], streamOrigin, depth+1) }
	case isECSNotification(obj):
		kind, decode = "ECS event notification", func() []Message { return []Message{decodeECSNotification(raw, o)} }
	case isCMSAlarm(obj):
		kind, decode = "CloudMonitor alarm", func() []Message { return []Message{decodeCMSAlarmJSON(raw, o)} }
	default:
		if q := queueKind("", obj); q != "" {
			kind, decode = string(q)+" event data", func() []Message { return decodeRawData(obj, q, o, depth) }
		}
	}
	if decode != nil {
		if p, dup := duplicateKey(raw, ""); dup {
			return []Message{o.ignore(fmt.Sprintf("malformed %s: key %s is %s", kind, p, msgDuplicate))}
		}
		return decode()
	}
	if looksLikeRequest(obj) {
		m := o.message()
		m.Request, m.Errors = decodeRequest(fields, false)
		return []Message{m}
	}
	return []Message{o.unknownObject(fields, unknown)}
}

// decodeBody decodes the body of a message (a queue message, a timer payload, an
// event's data, an MNS topic message) into messages based on o; always at least
// one. See decodeValue.
func decodeBody(body []byte, o origin, depth int) []Message {
	return decodeValue(body, o, depth, false)
}

// decodeValue is the one recursive decoder of nested payloads and bodies: top
// says whether raw is a whole payload (or an element of a payload's batch) or
// the body of a message. Each layer it peels adds to depth; past maxDepth it
// gives up. Always at least one Message:
//
//   - a JSON array is a batch: element i is decoded at the same level, based on
//     o.at(i), so that every element gives at least one Message; an empty array
//     is one Ignored message;
//   - a JSON object is classified by decodeObject: an envelope, a start request,
//     or nothing known; in a body, an event it carries is completed from the
//     message (nested);
//   - a JSON string is unwrapped (a string holding JSON). In a body anything it
//     holds is decoded as a body; in a payload only a JSON object or array is,
//     other text is what rawStream says;
//   - text that is not JSON: in a payload, see rawStream (the STREAM form of an
//     MNS topic trigger); in a body, Python's repr of bytes (b'…', as Kafka values
//     come) or base64 of JSON is unwrapped (DESIGN §4: only text that is not JSON
//     is taken as base64), and the ECS query spelling is a start request;
//   - anything else (a number, a boolean; null or nothing at all) names nothing.
func decodeValue(raw []byte, o origin, depth int, top bool) []Message {
	unknown, empty := ReasonNotRequest, ReasonEmptyBody
	if top {
		unknown, empty = ReasonUnknownPayload, ReasonEmptyPayload
	}
	raw = trimJSONSpace(raw)
	switch {
	case len(raw) == 0 || (!top && string(raw) == "null"):
		return []Message{o.nothing(empty)}
	case depth > maxDepth:
		return []Message{o.nothing(unknown)}
	case !json.Valid(raw):
		return decodeText(raw, o, depth, top, unknown)
	}
	switch raw[0] {
	case '[':
		return decodeBatch(raw, o, depth, top)
	case '{':
		if top {
			return decodeObject(raw, o, depth, unknown)
		}
		return nested(o, decodeObject(raw, o, depth+1, unknown))
	case '"':
		return decodeJSONString(raw, o, depth, top)
	}
	return []Message{o.nothing(unknown)}
}

// decodeText is decodeValue of raw that is not valid JSON: see there.
func decodeText(raw []byte, o origin, depth int, top bool, unknown string) []Message {
	if o.operator && meantAsJSON(raw) {
		return []Message{o.malformedJSON(raw)}
	}
	if top {
		return rawStream(raw, o, depth)
	}
	inner, ok := pythonBytes(raw)
	if !ok {
		inner, ok = base64JSON(raw)
	}
	if ok {
		return decodeValue(inner, o, depth+1, false)
	}
	if vals, ok := ecsQuery(raw); ok {
		return []Message{valuesMessage(vals, o)}
	}
	return []Message{o.nothing(unknown)}
}

// decodeBatch is decodeValue of a JSON array: each element decoded at the
// same level, based on o.at(i); an empty array is one Ignored message.
func decodeBatch(raw []byte, o origin, depth int, top bool) []Message {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil || len(elems) == 0 {
		return []Message{o.nothing(ReasonEmptyBatch)}
	}
	out := make([]Message, 0, len(elems))
	for i, e := range elems {
		out = append(out, decodeValue(e, o.at(i), depth+1, top)...)
	}
	return out
}

// decodeJSONString is decodeValue of a JSON string: in a body, what it holds
// is decoded as a body; in a payload, only a JSON object or array it holds
// is, other text is what rawStream says.
func decodeJSONString(raw []byte, o origin, depth int, top bool) []Message {
	var s string
	_ = json.Unmarshal(raw, &s)
	if !top {
		return decodeValue([]byte(s), o, depth+1, false)
	}
	inner := trimJSONSpace([]byte(s))
	if len(inner) > 0 && (inner[0] == '{' || inner[0] == '[') && json.Valid(inner) {
		return decodeValue(inner, o, depth+1, true)
	}
	return rawStream(inner, o, depth)
}

// unwrapBody peels the layers a body may come in, DESIGN §4: a body is taken as JSON
// first; a JSON string is unwrapped (a string holding JSON); only text that is not
// JSON and decodes from base64 into JSON is taken as base64. Kafka values that come
// as Python's repr of bytes (b'…') are unwrapped too. It returns the innermost body,
// trimmed, and the depth reached: past maxDepth when it gave up.
func unwrapBody(body []byte, depth int) ([]byte, int) {
	for ; depth <= maxDepth; depth++ {
		body = trimJSONSpace(body)
		if json.Valid(body) {
			if body[0] != '"' {
				return body, depth
			}
			var s string
			_ = json.Unmarshal(body, &s)
			body = []byte(s)
			continue
		}
		inner, ok := pythonBytes(body)
		if !ok {
			inner, ok = base64JSON(body)
		}
		if !ok {
			return body, depth
		}
		body = inner
	}
	return trimJSONSpace(body), depth
}

// ecsQuery recognises a start request in the ECS query spelling, as a query
// string or a whole request URL, the form ECS's own documentation shows:
//
//	RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001
//	https://ecs.aliyuncs.com/?Action=StartInstances&RegionId=cn-hangzhou&InstanceId=["i-…"]
//
//	RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=dev
//
// It must name InstanceId, InstanceId.N or Tag.N (a tag selection, DESIGN
// §3.1), so prose is never taken for a query.
func ecsQuery(body []byte) (url.Values, bool) {
	s := strings.Trim(string(body), jsonSpace)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[i+1:]
	}
	if !strings.Contains(s, "=") || strings.ContainsAny(s, " \t\r\n") {
		return nil, false
	}
	vals, err := url.ParseQuery(s)
	if err != nil {
		return nil, false
	}
	for k := range vals {
		if k == "InstanceId" || strings.HasPrefix(k, indexedPrefix) || strings.HasPrefix(k, tagPrefix) {
			return vals, true
		}
	}
	return nil, false
}

// nested completes the messages decoded from an event carried inside a message: the
// message names the delivery (Source: o's, or o.at(i)'s for the i-th of several, as
// when the event's own body is a batch), and the earlier of the two times counts, so
// that a late redelivery of an old event still expires.
func nested(o origin, msgs []Message) []Message {
	for i := range msgs {
		m := &msgs[i]
		switch {
		case o.source == "":
		case len(msgs) == 1:
			m.Source = o.source
		default:
			m.Source = o.at(i).source
		}
		m.Time = earliest(m.Time, o.time)
		if m.SourceRegion == "" {
			m.SourceRegion = o.sourceRegion
		}
	}
	return msgs
}

// pythonBytes unwraps Python's repr of a bytes value, b'…' or b"…", as some Kafka
// producers (and the sample in sdk-kafka_eventbridge-1.json) put into `value`.
func pythonBytes(s []byte) ([]byte, bool) {
	if len(s) < 3 || s[0] != 'b' || (s[1] != '\'' && s[1] != '"') || s[len(s)-1] != s[1] {
		return nil, false
	}
	in := s[2 : len(s)-1]
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' || i+1 == len(in) {
			out = append(out, c)
			continue
		}
		i++
		switch in[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '\\', '\'', '"':
			out = append(out, in[i])
		case 'x':
			if i+2 < len(in) {
				if b, ok := unhex(in[i+1], in[i+2]); ok {
					out = append(out, b)
					i += 2
					continue
				}
			}
			out = append(out, '\\', 'x')
		default:
			out = append(out, '\\', in[i])
		}
	}
	return out, true
}

func unhex(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

// base64JSON decodes s from base64 (standard or URL alphabet, padded or not, line
// breaks allowed) and reports whether the result is JSON.
func base64JSON(s []byte) ([]byte, bool) {
	compact := bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out, err := enc.DecodeString(string(compact))
		if err != nil {
			continue
		}
		out = trimJSONSpace(out)
		if len(out) > 0 && json.Valid(out) {
			return out, true
		}
		return nil, false
	}
	return nil, false
}

// parseTime reads the times events carry: RFC 3339 (CloudEvents, timers) and ECS
// notifications' compact form (20181226T220114.058+0800). A time without a zone
// (2026-11-26T01:00:00, 2026-11-26 01:00:00) is UTC (DESIGN §4), so that it still
// expires. Zero when unreadable.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		time.RFC3339Nano, "20060102T150405.000-0700", "20060102T150405-0700",
		"2006-01-02T15:04:05", "2006-01-02 15:04:05", "20060102T150405",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// earliest returns the earliest of the times that are set (zero if none): an
// event's expiry runs from the earliest time it states, its envelope's or its
// body's (DESIGN §4), so that a fresh time inside cannot renew an old delivery.
func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// epochTime reads a Unix time in seconds or milliseconds (told apart by size).
func epochTime(n int64) time.Time {
	switch {
	case n <= 0:
		return time.Time{}
	case n >= 1e12:
		return time.UnixMilli(n)
	}
	return time.Unix(n, 0)
}

// text is a string field that also accepts a JSON number or boolean, so that an
// envelope whose producer picked another type still decodes.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = trimJSONSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '{' || b[0] == '[':
		return &json.UnmarshalTypeError{Value: "object or array", Type: reflect.TypeFor[string]()}
	default:
		*t = text(b)
	}
	return nil
}

// epoch is a Unix time field (seconds or milliseconds) sent as a number or a string.
type epoch int64

func (e *epoch) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	var n int64
	if _, err := fmt.Sscan(string(t), &n); err != nil {
		*e = 0 // unreadable: the event then has no time, which is not fatal
		return nil
	}
	*e = epoch(n)
	return nil
}

// malformed explains why an envelope could not be decoded, naming the field but
// never quoting the payload.
func malformed(kind string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("malformed %s: field %s has the wrong type", kind, safe(te.Field))
	}
	return fmt.Sprintf("malformed %s", kind)
}

// safe shortens and cleans a value taken from an event (a state, an alarm state, a
// field name) before it goes into a reason or an error, which are logged.
func safe(s string) string {
	const maxRunes = 64
	if s == "" {
		// An empty key or value is named as JSON writes it, so that an
		// error about it names something (found by FuzzDecode).
		return `""`
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxRunes {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// has reports whether obj has all of keys.
func has(obj map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			return false
		}
	}
	return true
}

// str returns the string value of obj[key], or "" when absent or not a string.
func str(obj map[string]json.RawMessage, key string) string {
	var s string
	if err := json.Unmarshal(obj[key], &s); err != nil {
		return ""
	}
	return s
}
