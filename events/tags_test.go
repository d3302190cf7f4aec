package events

import (
	"encoding/base64"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

// tags and wait in every spelling a start request has (DESIGN §3.1): JSON, a
// pair without value, ECS's Tag.N.Key/Tag.N.Value in JSON and in a form, and
// inside the event forms of DESIGN §4.
func TestDecodeTagsAndWait(t *testing.T) {
	devOnly := []TagFilter{{Key: "env", Value: strp("dev")}}
	tests := []struct {
		name     string
		payload  string
		tags     []TagFilter
		fields   []string // TagField(i, "key") of each pair
		wait     string
		ids      int
		trigger  Trigger
		inRegion string
	}{
		{"JSON", `{"regionId":"cn-hangzhou","tags":[{"key":"env","value":"dev"}],"wait":true}`,
			devOnly, []string{"tags[0].key"}, "true", 0, Direct, "cn-hangzhou"},
		{"a pair without value matches any", `{"tags":[{"key":"env"},{"key":"team","value":""}]}`,
			[]TagFilter{{Key: "env"}, {Key: "team", Value: strp("")}}, []string{"tags[0].key", "tags[1].key"}, "", 0, Direct, ""},
		{"null value is any value", `{"tags":[{"key":"env","value":null}],"wait":"90s"}`,
			[]TagFilter{{Key: "env"}}, []string{"tags[0].key"}, "90s", 0, Direct, ""},
		{"tags narrow instanceIds", `{"instanceIds":["i-bp67acfmxazb4p0001"],"tags":[{"key":"env","value":"dev"}],"wait":false}`,
			devOnly, []string{"tags[0].key"}, "false", 1, Direct, ""},
		{"ECS spelling in JSON, in the order of N", `{"RegionId":"cn-hangzhou","Tag.2.Key":"team","Tag.1.Value":"dev","Tag.1.Key":"env"}`,
			[]TagFilter{{Key: "env", Value: strp("dev")}, {Key: "team"}}, []string{"Tag.1.Key", "Tag.2.Key"}, "", 0, Direct, "cn-hangzhou"},
		{"timer payload", `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"dev-morning","payload":"{\"regionId\":\"cn-hangzhou\",\"tags\":[{\"key\":\"env\",\"value\":\"dev\"}],\"wait\":true}"}`,
			devOnly, []string{"tags[0].key"}, "true", 0, Timer, "cn-hangzhou"},
		{"MNS queue message in base64", mnsQueueEvent(base64.StdEncoding.EncodeToString([]byte(`{"tags":[{"key":"env","value":"dev"}],"wait":"2m"}`))),
			devOnly, []string{"tags[0].key"}, "2m", 0, MNS, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" || len(m.Errors) > 0 {
				t.Fatalf("ignored %q errors %+v", m.Ignored, m.Errors)
			}
			r := m.Request
			if m.Trigger != tc.trigger || !reflect.DeepEqual(r.Tags, tc.tags) || r.Wait != tc.wait || len(r.InstanceIDs) != tc.ids || r.RegionID != tc.inRegion {
				t.Fatalf("trigger %s request %+v tags %v, want %s %v wait %q", m.Trigger, r, r.Tags, tc.trigger, tc.tags, tc.wait)
			}
			for i, want := range tc.fields {
				if got := r.TagField(i, "key"); got != want {
					t.Errorf("TagField(%d) = %q, want %q", i, got, want)
				}
			}
		})
	}
}

// mnsQueueEvent is an EventBridge MNS queue event carrying body.
func mnsQueueEvent(body string) string {
	return `{"id":"e1","source":"MNS-start-ecs","specversion":"1.0","type":"mns:Queue:SendMessage","subject":"acs:mns:cn-hangzhou:123:queues/q","time":"2026-11-26T00:59:58Z","aliyunregionid":"cn-hangzhou","data":{"requestId":"r","messageId":"m1","messageBody":"` + body + `"}}`
}

func TestDecodeTagsInAForm(t *testing.T) {
	q, err := url.ParseQuery("RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=team&wait=true")
	if err != nil {
		t.Fatal(err)
	}
	req, errs := decodeValues(q)
	if len(errs) > 0 {
		t.Fatalf("errors %+v", errs)
	}
	want := []TagFilter{{Key: "env", Value: strp("dev")}, {Key: "team"}}
	if !reflect.DeepEqual(req.Tags, want) || req.Wait != "true" || req.TagField(1, "value") != "Tag.2.Value" {
		t.Fatalf("request %+v, tags %v", req, req.Tags)
	}
}

func TestDecodeTagErrors(t *testing.T) {
	tests := []struct {
		name, payload, field, message string
	}{
		{"tags not an array", `{"tags":{"env":"dev"}}`, "tags", "must be an array"},
		{"pair not an object", `{"tags":["env=dev"]}`, "tags[0]", "must be an object"},
		{"key not a string", `{"tags":[{"key":"env","value":"dev"},{"key":5}]}`, "tags[1].key", "must be a string"},
		{"value not a string", `{"tags":[{"key":"env","value":true}]}`, "tags[0].value", "must be a string"},
		{"capitalised part", `{"tags":[{"Key":"env","value":"dev"}]}`, "tags[0].Key", "did you mean key?"},
		{"unknown part", `{"tags":[{"key":"env","values":"dev"}]}`, "tags[0].values", "unknown field"},
		{"key twice in a pair", `{"tags":[{"key":"env","key":"team"}]}`, "tags[0].key", "more than once"},
		{"value without key", `{"Tag.1.Value":"dev"}`, "Tag.1.Value", "has no Tag.1.Key"},
		{"bad index", `{"Tag.0.Key":"env"}`, "Tag.0.Key", "is not Tag.1.Key"},
		{"bad part", `{"Tag.1.Name":"env"}`, "Tag.1.Name", "is not Tag.1.Key"},
		{"mixed spellings", `{"tags":[{"key":"env"}],"Tag.1.Key":"team"}`, "Tag.1.Key", "use one spelling"},
		{"wait not a boolean or string", `{"tags":[{"key":"env"}],"wait":90}`, "wait", "a duration"},
		{"misspelt tags", `{"Tags":[{"key":"env"}]}`, "Tags", "did you mean tags?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" || len(m.Errors) == 0 {
				t.Fatalf("ignored %q errors %+v; request %+v", m.Ignored, m.Errors, m.Request)
			}
			var got []string
			for _, e := range m.Errors {
				got = append(got, e.Field+": "+e.Message)
				if e.Field == tc.field && strings.Contains(e.Message, tc.message) {
					return
				}
			}
			t.Errorf("errors %q, want %s with %q", got, tc.field, tc.message)
		})
	}
}
