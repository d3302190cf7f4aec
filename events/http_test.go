package events

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// httpPayload builds an FC 3.0 HTTP trigger event around a body.
func httpPayload(t *testing.T, contentType, body string, b64 bool, query map[string]any) []byte {
	t.Helper()
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "headers": map[string]string{"Content-Type": contentType},
		"queryParameters": query, "body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{"requestId": "req-1", "timeEpoch": "1795654800000",
			"http": map[string]string{"method": "POST", "sourceIp": "203.0.113.7"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHTTP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		ok      bool
		err     string
	}{
		{"direct start request", `{"instanceIds":["i-bp67acfmxazb4p0001"]}`, false, ""},
		{"CloudEvent", `{"specversion":"1.0","id":"1","type":"t","source":"s","data":{}}`, false, ""},
		{"array", `[{"rawPath":"/","requestContext":{}}]`, false, ""},
		{"not JSON", `rawPath requestContext`, false, ""},
		{"minimal", `{"rawPath":"/","requestContext":{}}`, true, ""},
		{"body not a string", `{"rawPath":"/","requestContext":{},"body":{"a":1}}`, true, "body is not a string"},
		{"bad base64", `{"rawPath":"/","requestContext":{},"body":"%%%","isBase64Encoded":true}`, true, "not base64"},
		{"isBase64Encoded not a bool", `{"rawPath":"/","requestContext":{},"isBase64Encoded":"yes"}`, true, "isBase64Encoded"},
		{"timeEpoch not a number", `{"rawPath":"/","requestContext":{"timeEpoch":"yesterday"}}`, true, "timeEpoch"},
		{"headers not strings", `{"rawPath":"/","requestContext":{},"headers":{"A":{"b":1}}}`, true, "headers"},
		{"query not strings", `{"rawPath":"/","requestContext":{},"queryParameters":{"a":{"b":1}}}`, true, "query parameter a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := ParseHTTP([]byte(tc.payload))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want one with %q", err, tc.err)
			}
		})
	}

	r, ok, err := ParseHTTP([]byte(`{"rawPath":"/","requestContext":{"timeEpoch":1795654800000},"queryParameters":{"InstanceId":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]}}`))
	if !ok || err != nil || r.TimeEpochMs != 1795654800000 || r.Query["InstanceId"] != id1+","+id2 {
		t.Errorf("numeric timeEpoch and repeated query: %+v %v %v", r, ok, err)
	}
	var nilReq *HTTPRequest
	if nilReq.Header("A") != "" {
		t.Error("Header on nil")
	}
}

func TestDecodeHTTPBodies(t *testing.T) {
	const ce = `{"specversion":"1.0","id":"ev-1","source":"acs.ecs","type":"ecs:Instance:StateChange","time":"2026-11-26T00:59:58Z","aliyunregionid":"cn-hangzhou","data":{"resourceId":"i-bp67acfmxazb4p0001","state":"Stopped"}}`
	tests := []struct {
		name    string
		ct      string
		body    string
		b64     bool
		query   map[string]any
		trigger []Trigger
		ids     [][]string
		errs    []FieldError // each message's Errors, in order
	}{
		{"JSON with a misleading content type", "application/x-www-form-urlencoded", `{"instanceIds":["i-bp67acfmxazb4p0001"]}`, false, nil,
			[]Trigger{HTTP}, [][]string{{id1}}, nil},
		{"CloudEvent from an EventBridge HTTP target", "application/json", ce, false, nil,
			[]Trigger{ECSEvent}, [][]string{{id1}}, nil},
		{"array of CloudEvents", "application/json", "[" + ce + "," + ce + "]", false, nil,
			[]Trigger{ECSEvent, ECSEvent}, [][]string{{id1}, {id1}}, nil},
		{"base64 of JSON in a text body", "text/plain", base64.StdEncoding.EncodeToString([]byte(`{"InstanceId.1":"i-bp67acfmxazb4p0001"}`)), false, nil,
			[]Trigger{HTTP}, [][]string{{id1}}, nil},
		{"CloudMonitor alarm JSON", "application/json", `{"alertState":"ALERT","dimensions":"{userId=1, instanceId=i-bp67acfmxazb4p0001}","ruleId":"r1","timestamp":"1795654790"}`, false, nil,
			[]Trigger{CMSAlarm}, [][]string{{id1}}, nil},
		{"alarm back to OK is Ignored, not an error", "application/x-www-form-urlencoded", "alertState=OK&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D", false, nil,
			[]Trigger{CMSAlarm}, [][]string{nil}, nil},
		{"form with a field error", "application/x-www-form-urlencoded", "InstanceId=i-bp67acfmxazb4p0001&DryRun=perhaps", false, nil,
			[]Trigger{HTTP}, [][]string{{id1}}, []FieldError{{Field: "DryRun", Message: "must be true or false"}}},
		{"query with a misspelt key", "", "", false, map[string]any{"token": "t", "instanceid": id1},
			[]Trigger{HTTP}, [][]string{nil}, []FieldError{{Field: "instanceid", Message: "unknown field: did you mean instanceIds?"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok, err := ParseHTTP(httpPayload(t, tc.ct, tc.body, tc.b64, tc.query))
			if !ok || err != nil {
				t.Fatalf("ParseHTTP: %v %v", ok, err)
			}
			msgs, errs := DecodeHTTP(r)
			if len(errs) > 0 {
				t.Fatalf("errs %+v", errs)
			}
			if len(msgs) != len(tc.trigger) {
				t.Fatalf("got %d messages: %+v", len(msgs), msgs)
			}
			for i, m := range msgs {
				if m.Trigger != tc.trigger[i] || strings.Join(m.Request.InstanceIDs, ",") != strings.Join(tc.ids[i], ",") {
					t.Errorf("%d: trigger %q ids %v, want %q %v", i, m.Trigger, m.Request.InstanceIDs, tc.trigger[i], tc.ids[i])
				}
				if m.Time.IsZero() {
					t.Errorf("%d: no time", i)
				}
				if m.Trigger == HTTP && m.Source != "http:req-1" {
					t.Errorf("%d: source %q", i, m.Source)
				}
			}
			if tc.errs != nil && (len(msgs[0].Errors) != len(tc.errs) || msgs[0].Errors[0] != tc.errs[0]) {
				t.Errorf("errors %+v, want %+v", msgs[0].Errors, tc.errs)
			}
		})
	}
}

func TestDecodeHTTPUnreadable(t *testing.T) {
	const secret = "s3cr3t-body"
	for _, tc := range []struct {
		name  string
		ct    string
		body  string
		query map[string]any
	}{
		{"empty body, no query", "", "", nil},
		{"empty body, only token and Format", "", "", map[string]any{"token": "t", "Format": "XML"}},
		{"truncated JSON", "application/json", `{"instanceIds":["` + secret, nil},
		{"plain text", "text/plain", secret, nil},
		{"empty JSON array", "application/json", `[]`, nil},
		{"bad form", "application/x-www-form-urlencoded", "a=%zz" + secret, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok, err := ParseHTTP(httpPayload(t, tc.ct, tc.body, false, tc.query))
			if !ok || err != nil {
				t.Fatalf("ParseHTTP: %v %v", ok, err)
			}
			msgs, errs := DecodeHTTP(r)
			if len(msgs) != 0 || len(errs) != 1 || errs[0].Field != "body" {
				t.Fatalf("msgs %+v errs %+v, want one error on body", msgs, errs)
			}
			if strings.Contains(errs[0].Message, secret) {
				t.Errorf("error quotes the body: %q", errs[0].Message)
			}
		})
	}
}

// DESIGN §6: beside a body, the request is the body. A start-request field in
// the query, in any spelling or case, is refused naming it (read one place and
// the other would be dropped without a word); any other key (token, Format, a
// sender's own ref=… or source=… that a user put in the webhook URL) is ignored
// and never named. Beside a CloudMonitor alarm callback's form, which names
// instances but no region, RegionId or regionId is their region — and only
// that.
func TestQueryBesideABody(t *testing.T) {
	const (
		jsonReq = `{"instanceIds":["i-bp67acfmxazb4p0001"]}`
		alarm   = "alertState=ALERT&dimensions=%7BinstanceId%3Di-bp67acfmxazb4p0001%7D"
		form    = "application/x-www-form-urlencoded"
	)
	for _, tc := range []struct {
		ct, body string
		query    map[string]any
		field    string
	}{
		{"application/json", jsonReq, map[string]any{"InstanceId.1": id2}, "InstanceId.1"},
		{form, "InstanceId.1=" + id1, map[string]any{"token": "t", "Action": "StopInstances"}, "Action"},
		{"application/json", jsonReq, map[string]any{"regionid": "cn-beijing", "ref": "deploy-7"}, "regionid"},
		{"application/json", jsonReq, map[string]any{"REGIONID": "cn-beijing"}, "REGIONID"},
		{"application/json", jsonReq, map[string]any{"instance_ids": id2}, "instance_ids"},
		{"application/json", jsonReq, map[string]any{"tag.1.key": "env"}, "tag.1.key"},
		{"application/json", jsonReq, map[string]any{"DryRun": "true"}, "DryRun"},
		{"application/json", jsonReq, map[string]any{"RegionId": "cn-beijing"}, "RegionId"},
		{form, alarm, map[string]any{"RegionId": "cn-beijing", "InstanceId.1": id2}, "InstanceId.1"},
		{form, alarm, map[string]any{"regionid": "cn-beijing"}, "regionid"},
		{form, alarm, map[string]any{"DryRun": "true"}, "DryRun"},
	} {
		r, ok, err := ParseHTTP(httpPayload(t, tc.ct, tc.body, false, tc.query))
		if !ok || err != nil {
			t.Fatalf("ParseHTTP: %v %v", ok, err)
		}
		msgs, errs := DecodeHTTP(r)
		if len(msgs) != 0 || len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, "beside a body") {
			t.Errorf("%s with query %v: %+v %+v, want %s refused", tc.body, tc.query, msgs, errs, tc.field)
		}
	}

	// Keys that are no start-request field go unread and unnamed.
	for _, q := range []map[string]any{
		{"token": "t", "Format": "XML"},
		{"token": "t", "ref": "deploy-7"},
		{"source": "x", "utm_campaign": "s3cr3t", "format": "xml", "Version": "2014-05-26"},
	} {
		for _, body := range []struct{ ct, body string }{{"application/json", jsonReq}, {form, "InstanceId.1=" + id1}} {
			r, _, _ := ParseHTTP(httpPayload(t, body.ct, body.body, false, q))
			msgs, errs := DecodeHTTP(r)
			if len(errs) != 0 || len(msgs) != 1 || len(msgs[0].Errors) != 0 || !reflect.DeepEqual(msgs[0].Request.InstanceIDs, []string{id1}) {
				t.Errorf("%s beside %v: %+v %+v, want the body's request", body.body, q, msgs, errs)
			}
			if strings.Contains(fmt.Sprintf("%+v %+v", msgs, errs), "s3cr3t") {
				t.Errorf("a query value reached the messages: %+v %+v", msgs, errs)
			}
		}
	}

	// The region of an alarm callback's instances.
	for _, tc := range []struct {
		query  map[string]any
		region string
		errs   []string
	}{
		{map[string]any{"token": "t", "RegionId": "cn-shanghai"}, "cn-shanghai", nil},
		{map[string]any{"regionId": "cn-shanghai", "ref": "x"}, "cn-shanghai", nil},
		{map[string]any{"RegionId": ""}, "", []string{"RegionId"}},
	} {
		r, _, _ := ParseHTTP(httpPayload(t, form, alarm, false, tc.query))
		msgs, errs := DecodeHTTP(r)
		if len(errs) != 0 || len(msgs) != 1 || msgs[0].Trigger != CMSAlarm || !reflect.DeepEqual(msgs[0].Request.InstanceIDs, []string{id1}) {
			t.Fatalf("alarm with %v: %+v %+v", tc.query, msgs, errs)
		}
		if got := errFields(msgs[0].Errors); !reflect.DeepEqual(got, tc.errs) || (tc.errs == nil && msgs[0].Request.RegionID != tc.region) {
			t.Errorf("alarm with %v: region %q errors %+v, want %q %v", tc.query, msgs[0].Request.RegionID, msgs[0].Errors, tc.region, tc.errs)
		}
	}
	// RegionId and regionId are one key to encoding/json: the event is
	// malformed (DESIGN §5), a 400.
	if _, _, err := ParseHTTP(httpPayload(t, form, alarm, false, map[string]any{"RegionId": "cn-shanghai", "regionId": "cn-beijing"})); err == nil {
		t.Error("RegionId beside regionId in the query: no error")
	}
}
