package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HTTPRequest is an FC 3.0 HTTP trigger event, decoded: what the handler needs to
// authenticate the caller and find the start requests.
type HTTPRequest struct {
	Version string
	RawPath string
	Method  string
	// Headers as sent; look them up with Header, which ignores case.
	Headers map[string]string
	// Query holds the query parameters as FC passes them (one value each).
	Query map[string]string
	// Body is the body as sent, base64-decoded when isBase64Encoded.
	Body []byte
	// TimeEpochMs is requestContext.timeEpoch (milliseconds); 0 when absent.
	TimeEpochMs int64
	RequestID   string
	SourceIP    string
}

// httpEvent is an FC 3.0 HTTP trigger event as it comes on the wire:
//
//	{"version": "v1", "rawPath": "/start", "headers": {"Content-Type": "application/json", …},
//	 "queryParameters": {"token": "…"}, "body": "{\"instanceIds\":[…]}", "isBase64Encoded": false,
//	 "requestContext": {"accountId": "…", "domainName": "…", "domainPrefix": "…",
//	   "requestId": "…", "time": "2026-11-26T01:00:00Z", "timeEpoch": "1764118800000",
//	   "http": {"method": "POST", "path": "/start", "protocol": "HTTP/1.1",
//	            "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"}}}
//
// timeEpoch is a string of milliseconds. A query parameter given several times may
// come as an array; its values are joined with commas.
type httpEvent struct {
	Version         text                       `json:"version"`
	RawPath         text                       `json:"rawPath"`
	Headers         map[string]text            `json:"headers"`
	QueryParameters map[string]json.RawMessage `json:"queryParameters"`
	Body            json.RawMessage            `json:"body"`
	IsBase64Encoded bool                       `json:"isBase64Encoded"`
	RequestContext  struct {
		AccountID    text            `json:"accountId"`
		DomainName   text            `json:"domainName"`
		DomainPrefix text            `json:"domainPrefix"`
		RequestID    text            `json:"requestId"`
		Time         text            `json:"time"`
		TimeEpoch    json.RawMessage `json:"timeEpoch"`
		HTTP         struct {
			Method    text `json:"method"`
			Path      text `json:"path"`
			Protocol  text `json:"protocol"`
			SourceIP  text `json:"sourceIp"`
			UserAgent text `json:"userAgent"`
		} `json:"http"`
	} `json:"requestContext"`
}

// ParseHTTP reports whether payload is an FC 3.0 HTTP trigger event (a JSON object
// with requestContext and rawPath or isBase64Encoded) and decodes its envelope:
// headers, queryParameters, the body with base64 undone when isBase64Encoded,
// requestContext.timeEpoch (a string of milliseconds), http.method and sourceIp.
// ok=false: not an HTTP event (decode it with Decode). err: it is one, but malformed;
// the error names the field and never quotes the payload. A key given twice in any
// object of the event, in any letter case, makes it malformed.
func ParseHTTP(payload []byte) (req *HTTPRequest, ok bool, err error) {
	p, fields, isObject := readObject(payload)
	if !isObject {
		return nil, false, nil
	}
	return parseHTTP(p, fields)
}

// Payload is what Read made of an invocation's payload: an HTTP trigger
// event (HTTP, and HTTPErr when it is malformed; see ParseHTTP), or the
// messages Decode gives.
type Payload struct {
	HTTP     *HTTPRequest
	HTTPErr  error
	Messages []Message
}

// Read is ParseHTTP and, when the payload is not an HTTP trigger event,
// Decode, reading the payload once: a JSON object is checked and its keys
// scanned one time for both.
func Read(payload []byte) Payload {
	p, fields, isObject := readObject(payload)
	if !isObject {
		return Payload{Messages: Decode(payload)}
	}
	if req, ok, err := parseHTTP(p, fields); ok {
		return Payload{HTTP: req, HTTPErr: err}
	}
	// What decodeValue does with a whole payload that is a valid object.
	return Payload{Messages: decodeFields(p, fields, directOrigin, 0, ReasonUnknownPayload)}
}

// readObject trims payload and, when it is a valid JSON object, reads its
// fields.
func readObject(payload []byte) (p []byte, fields []field, ok bool) {
	p = trimJSONSpace(payload)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return nil, nil, false
	}
	fields, err := scanObject(p)
	return p, fields, err == nil
}

// parseHTTP is ParseHTTP of payload, a valid JSON object whose fields are
// read. The keys come first: most payloads are not HTTP trigger events, and
// a map of every value is only made for those that are.
func parseHTTP(payload []byte, fields []field) (req *HTTPRequest, ok bool, err error) {
	keys := make(map[string]bool, len(fields))
	for _, f := range fields {
		keys[f.key] = true
	}
	if !keys["requestContext"] || (!keys["rawPath"] && !keys["isBase64Encoded"]) {
		return nil, false, nil
	}
	var ev httpEvent
	err = json.Unmarshal(payload, &ev)
	if err != nil {
		err = errors.New(malformed("HTTP trigger event", err))
	} else if p, dup := duplicateKey(payload, ""); dup {
		// Never pick one of two values (two bodies, two Authorization
		// headers, in any letter case): the event is malformed (DESIGN §5).
		err = fmt.Errorf("malformed HTTP trigger event: key %s is %s", p, msgDuplicate)
	}
	if err != nil {
		return partialHTTP(fields), true, err
	}
	r := &HTTPRequest{
		Version:   string(ev.Version),
		RawPath:   string(ev.RawPath),
		Method:    string(ev.RequestContext.HTTP.Method),
		Headers:   make(map[string]string, len(ev.Headers)),
		Query:     make(map[string]string, len(ev.QueryParameters)),
		RequestID: string(ev.RequestContext.RequestID),
		SourceIP:  string(ev.RequestContext.HTTP.SourceIP),
	}
	for k, v := range ev.Headers {
		r.Headers[k] = string(v)
	}
	for k, v := range ev.QueryParameters {
		s, ok := queryValue(v)
		if !ok {
			return r, true, fmt.Errorf("malformed HTTP trigger event: query parameter %s is not a string", safe(k))
		}
		r.Query[k] = s
	}
	if r.Body, err = eventBody(ev.Body, ev.IsBase64Encoded); err != nil {
		return r, true, err
	}
	if r.TimeEpochMs, err = eventTimeEpoch(ev.RequestContext.TimeEpoch); err != nil {
		return r, true, err
	}
	return r, true, nil
}

// partialHTTP is what headers and query of a malformed HTTP trigger event
// can be read: they go back with the error, so that the caller is
// authenticated before being told of a 400.
func partialHTTP(fields []field) *HTTPRequest {
	obj := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		obj[f.key] = f.val
	}
	partial := &HTTPRequest{Headers: map[string]string{}, Query: map[string]string{}}
	_ = json.Unmarshal(obj["headers"], &partial.Headers)
	_ = json.Unmarshal(obj["queryParameters"], &partial.Query)
	return partial
}

// eventBody reads an HTTP trigger event's body: a JSON string, decoded from
// base64 when isBase64Encoded. When that fails, the body is the string as
// sent, beside the error.
func eventBody(raw json.RawMessage, isBase64 bool) ([]byte, error) {
	body := trimJSONSpace(raw)
	if len(body) == 0 || string(body) == "null" {
		return nil, nil
	}
	s, ok := jsonString(body)
	if !ok {
		return nil, errors.New("malformed HTTP trigger event: body is not a string")
	}
	if !isBase64 {
		return []byte(s), nil
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return []byte(s), errors.New("malformed HTTP trigger event: isBase64Encoded, but body is not base64")
	}
	return dec, nil
}

// eventTimeEpoch reads requestContext.timeEpoch, milliseconds as a number
// or a string; 0 when absent.
func eventTimeEpoch(raw json.RawMessage) (int64, error) {
	te := trimJSONSpace(raw)
	if len(te) == 0 || string(te) == "null" {
		return 0, nil
	}
	var t text
	n, err := int64(0), t.UnmarshalJSON(te)
	if err == nil {
		n, err = strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	}
	if err != nil || n < 0 {
		return 0, errors.New("malformed HTTP trigger event: requestContext.timeEpoch is not milliseconds")
	}
	return n, nil
}

// queryValue reads one query parameter: a string, or an array of strings (a
// parameter given several times), joined with commas.
func queryValue(v json.RawMessage) (string, bool) {
	var t text
	if t.UnmarshalJSON(v) == nil {
		return string(t), true
	}
	var many []string
	if json.Unmarshal(v, &many) != nil {
		return "", false
	}
	return strings.Join(many, ","), true
}

// Header returns a header's value, ignoring the case of its name; "" when absent.
func (r *HTTPRequest) Header(name string) string {
	if r == nil {
		return ""
	}
	if v, ok := r.Headers[name]; ok {
		return v
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// notRequestParams are query parameters that belong to the HTTP exchange, never to
// a start request: the webhook token (DESIGN §6) and the response format (§5).
var notRequestParams = map[string]bool{"token": true, "Format": true}

// requestFieldLetters are the start request's fields in every spelling
// (DESIGN §3 and §3.1, and the schedules still to come: regionId and
// RegionId, InstanceId.N, Tag.N.Key, schedule, …),
// reduced to their letters in lower case: a query key whose letters are one of
// these is a start-request field in some spelling or case.
var requestFieldLetters = map[string]bool{
	"regionid": true, "instanceids": true, "instanceid": true, "batchoptimization": true,
	"dryrun": true, "notafter": true, "tags": true, "tag": true, "tagkey": true, "tagvalue": true,
	"wait": true, "skipdates": true, "timezone": true, "rolearn": true, "targets": true,
	"sequence": true, "schedule": true, "preview": true, "workdates": true, "action": true,
}

// isRequestField reports whether the query key k is a start-request field in
// any spelling or case (regionid, INSTANCEID.1, tag.1.key, instance_ids):
// ASCII letters only, digits and punctuation dropped.
func isRequestField(k string) bool {
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'a' <= c && c <= 'z' {
			b = append(b, c)
		}
	}
	return requestFieldLetters[string(b)]
}

// RequestParams lists, sorted, the query parameters that are start-request
// fields in any spelling or case (isRequestField). Beside a body they are
// refused (DESIGN §6); a signature covers the body alone, so the handler
// refuses them beside a signature-only authentication too. Any other key
// (token, Format, a sender's own ref=…) is never part of a request beside a
// body, and never named.
func (r *HTTPRequest) RequestParams() []string {
	var out []string
	for k := range r.Query {
		if !notRequestParams[k] && isRequestField(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// alarmRegionKeys are the query keys that may name the region of a
// CloudMonitor alarm callback's instances beside its form body (DESIGN §6).
var alarmRegionKeys = map[string]bool{"RegionId": true, fieldRegion: true}

// DecodeHTTP finds the start requests of an (already authenticated) HTTP request.
// The body, taken as JSON first (DESIGN §4), may be:
//
//   - JSON: a start request in either spelling; a CloudEvent or an array of them (an
//     EventBridge HTTP target); a CloudMonitor alarm; an ECS event notification;
//   - base64 of such JSON (a body that is not JSON nor a form);
//   - a form (application/x-www-form-urlencoded): a CloudMonitor alarm callback
//     (alertState, dimensions naming instanceId), or a start request in the ECS
//     spelling (RegionId, InstanceId or InstanceId.N, BatchOptimization, DryRun);
//   - empty: then the query string holds a start request in the ECS spelling.
//
// When there is a body, a query parameter that is a start-request field in any
// spelling or case (RequestParams) is an error naming it, since reading one
// place would drop what the other names; any other (token, Format, a sender's
// own ref=deploy-7) is ignored and never named. One exception: beside a
// CloudMonitor alarm callback's form body, which names instances but no
// region, RegionId (or regionId) is the region of the alarm's instances, read
// as the request's regionId (DESIGN §6).
//
// Start requests get Trigger HTTP, Source "http:<requestId>" and the request's time;
// events keep their own trigger and source, and the earlier of their own time and
// the request's. errs non-empty means the body as a whole
// cannot be read (unparsable, of an unknown kind, a JSON object naming only unknown
// fields, or empty with no query): the caller answers 400; each error names the
// field or "body". A request that was read but is defective carries its
// FieldErrors in its Message's Errors, as with Decode; so does an element of a JSON
// array that is not a start request nor a known event ([1,2], [{},{"foo":1}], a
// bad element beside a good one): an Ignored Message whose Errors name the element
// ("[1]") or its fields ("[1].foo"), which the caller refuses with a 400 too.
func DecodeHTTP(r *HTTPRequest) (msgs []Message, errs []FieldError) {
	if r == nil {
		return nil, []FieldError{{Field: "body", Message: "no request"}}
	}
	o := origin{trigger: HTTP, source: "http", operator: true}
	if r.RequestID != "" {
		o.source = "http:" + r.RequestID
	}
	if r.TimeEpochMs > 0 {
		o.time = time.UnixMilli(r.TimeEpochMs)
	}
	defer func() {
		// The earliest time counts (DESIGN §4): an alarm callback whose body's
		// timestamp is fresh, redelivered hours after timeEpoch, is old.
		for i := range msgs {
			msgs[i].Time = earliest(msgs[i].Time, o.time)
		}
	}()

	body := trimJSONSpace(r.Body)
	if len(body) == 0 {
		return queryMessages(r.Query, o)
	}

	ct, _, _ := mime.ParseMediaType(r.Header("Content-Type"))
	alarmRegion, errs := queryBesideBody(r, body, ct)
	if errs != nil {
		return nil, errs
	}
	switch {
	case json.Valid(body):
		return jsonBodyMessages(body, o)
	case ct == "application/json" || strings.HasSuffix(ct, "+json") || meantAsJSON(body):
		return nil, []FieldError{{Field: "body", Message: "is not valid JSON: " + jsonDefect(body)}}
	case ct != "application/x-www-form-urlencoded":
		if dec, ok := base64JSON(body); ok {
			return jsonBodyMessages(dec, o)
		}
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(vals) == 0 || !bytes.ContainsRune(body, '=') {
		return nil, []FieldError{{Field: "body", Message: "is neither JSON nor a form (application/x-www-form-urlencoded)"}}
	}
	m := valuesMessage(vals, o)
	if alarmRegion != nil {
		// Read as the request's own regionId (DESIGN §3's first choice),
		// checked and named as the caller spelled it.
		req, errs := decodeValues(alarmRegion)
		m.Request.RegionID, m.Request.FieldNames = req.RegionID, req.FieldNames
		m.Errors = append(m.Errors, errs...)
	}
	return []Message{m}, nil
}

// queryMessages decodes the query of an HTTP request without a body.
func queryMessages(query map[string]string, o origin) ([]Message, []FieldError) {
	q := url.Values{}
	for k, v := range query {
		if !notRequestParams[k] {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return nil, []FieldError{{Field: "body", Message: "names no instances: send a start request as a JSON body, a form body, or query parameters"}}
	}
	return []Message{valuesMessage(q, o)}, nil
}

// queryBesideBody refuses start-request fields in the query of a request
// with a body, save the region of a CloudMonitor alarm callback's form,
// which it returns.
func queryBesideBody(r *HTTPRequest, body []byte, ct string) (alarmRegion url.Values, errs []FieldError) {
	params := r.RequestParams()
	if len(params) == 0 {
		return nil, nil
	}
	// A CloudMonitor callback's form names instances but no region:
	// the callback URL's RegionId is theirs (DESIGN §6), and only that.
	if alarmForm(body, ct) {
		alarmRegion = url.Values{}
		for _, k := range params {
			if alarmRegionKeys[k] {
				alarmRegion.Set(k, r.Query[k])
			}
		}
		if len(alarmRegion) < len(params) {
			params = slices.DeleteFunc(params, func(k string) bool { return alarmRegionKeys[k] })
		} else {
			params = nil
		}
	}
	if len(params) > 0 {
		// Read one and the other would be dropped without a word:
		// an instance named in the query must not go missing
		// (DESIGN §5).
		return nil, []FieldError{{Field: safe(params[0]),
			Message: "is a start-request field in the query string beside a body: send the request in one place (the body, or the query with an empty body)"}}
	}
	return alarmRegion, nil
}

// alarmForm reports whether an HTTP body is a CloudMonitor alarm callback: a
// form (not JSON) with alertState.
func alarmForm(body []byte, ct string) bool {
	if json.Valid(body) || (ct != "" && ct != "application/x-www-form-urlencoded") {
		return false
	}
	vals, err := url.ParseQuery(string(body))
	return err == nil && vals.Has("alertState")
}

func jsonBodyMessages(body []byte, o origin) ([]Message, []FieldError) {
	msgs := decodeValue(body, o, 0, true)
	if len(msgs) == 1 && msgs[0].Ignored != "" && len(msgs[0].Errors) > 0 {
		// A JSON object that is neither a request nor an event: its errors
		// name its fields (DESIGN §4).
		return nil, msgs[0].Errors
	}
	if len(msgs) == 1 && (msgs[0].Ignored == ReasonUnknownPayload || msgs[0].Ignored == ReasonEmptyBatch) {
		return nil, []FieldError{{Field: "body", Message: "is not a start request nor a known event"}}
	}
	return msgs, nil
}

// valuesMessage decodes a form body or query string: an alarm callback when it has
// alertState, else a start request.
func valuesMessage(vals url.Values, o origin) Message {
	if vals.Has("alertState") {
		if k, dup := formDuplicate(vals); dup {
			// As in the alarm's JSON form (DESIGN §5): never one of two
			// values picked, alertState=OK beside alertſtate=ALERT.
			return origin{trigger: CMSAlarm, source: "cms-alarm"}.ignore(fmt.Sprintf("malformed CloudMonitor alarm: key %s is %s", safe(k), msgDuplicate))
		}
		return cmsAlarmFromValues(vals).message(origin{}, "")
	}
	m := o.message()
	m.Request, m.Errors = decodeValues(vals)
	return m
}

// formDuplicate finds a key of a form given twice, or two keys that
// encoding/json would read as one field (foldKey), as a JSON object's are
// found; the first in sorted order.
func formDuplicate(vals url.Values) (string, bool) {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		f := foldKey(k)
		if len(vals[k]) > 1 || seen[f] {
			return k, true
		}
		seen[f] = true
	}
	return "", false
}
