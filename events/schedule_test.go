package events

import (
	"reflect"
	"strings"
	"testing"
)

// DESIGN §3.2: a request may carry schedule {tagKey, every} and preview, in
// the function's spelling and ECS's (Schedule, Preview, TagKey, Every), at
// the outer level and inside targets; workDates stands wherever skipDates
// does.
func TestDecodeSchedule(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    StartRequest
	}{
		{"camel", `{"regionId":"cn-hangzhou","schedule":{"tagKey":"start-schedule","every":"5m"}}`,
			StartRequest{RegionID: "cn-hangzhou", Schedule: &ScheduleSpec{TagKey: "start-schedule", Every: "5m", TagKeySet: true,
				TagKeyField: "schedule.tagKey", EveryField: "schedule.every"}}},
		{"ECS spelling", `{"RegionId":"cn-hangzhou","Schedule":{"TagKey":"team","Every":"1h"},"Preview":"7d"}`,
			StartRequest{RegionID: "cn-hangzhou", Preview: "7d", Schedule: &ScheduleSpec{TagKey: "team", Every: "1h", TagKeySet: true,
				TagKeyField: "Schedule.TagKey", EveryField: "Schedule.Every"},
				FieldNames: map[string]string{"regionId": "RegionId", "schedule": "Schedule", "preview": "Preview"}}},
		{"empty object: defaults", `{"schedule":{},"preview":"1h"}`,
			StartRequest{Preview: "1h", Schedule: &ScheduleSpec{}}},
		{"null parts are absent", `{"schedule":{"tagKey":null,"every":"5m"}}`,
			StartRequest{Schedule: &ScheduleSpec{Every: "5m", EveryField: "schedule.every"}}},
		{"workDates beside skipDates", `{"instanceIds":["i-bp67acfmxazb4p0001"],"skipDates":["2027-02-15"],"workDates":["2027-02-20"]}`,
			StartRequest{InstanceIDs: []string{id1}, IDFields: []string{"instanceIds[0]"}, SkipDates: []string{"2027-02-15"}, WorkDates: []string{"2027-02-20"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if len(m.Errors) > 0 {
				t.Fatalf("errors: %+v", m.Errors)
			}
			if !reflect.DeepEqual(m.Request, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", m.Request, tc.want)
			}
		})
	}
}

func TestDecodeScheduleInTargets(t *testing.T) {
	m := decodeOne(t, `{"preview":"7d","schedule":{"every":"5m"},"targets":[{"regionId":"cn-hangzhou","Schedule":{"TagKey":"k"},"workDates":["2027-02-20"]},{"regionId":"cn-beijing","preview":"2d"}]}`)
	if len(m.Errors) > 0 {
		t.Fatalf("errors: %+v", m.Errors)
	}
	ts := m.Request.Targets
	if len(ts) != 2 || ts[0].Schedule == nil || ts[0].Schedule.TagKey != "k" || ts[0].Schedule.TagKeyField != "Schedule.TagKey" ||
		!reflect.DeepEqual(ts[0].WorkDates, []string{"2027-02-20"}) || ts[1].Preview != "2d" {
		t.Fatalf("targets: %+v", ts)
	}
	if m.Request.Schedule == nil || m.Request.Schedule.Every != "5m" || m.Request.Preview != "7d" {
		t.Fatalf("outer: %+v", m.Request)
	}
}

// Defects of the schedule fields are named as spelled: unknown fields inside
// schedule (a typo must not run a default the caller did not choose), a
// value of the wrong kind, two spellings of one field, a part given twice
// (encoding/json's case folding: tagKey and TagKey are one key).
func TestDecodeScheduleDefects(t *testing.T) {
	tests := []struct {
		name, payload, field, msg string
	}{
		{"unknown field inside", `{"schedule":{"every":"5m","zone":"UTC"}}`, "schedule.zone", "unknown field"},
		{"misspelt part", `{"schedule":{"tagkey":"k","every":"5m"}}`, "schedule.tagkey", "did you mean tagKey?"},
		{"misspelt part, ECS", `{"Schedule":{"Period":"5m"}}`, "Schedule.Period", "did you mean every?"},
		{"not an object", `{"schedule":"5m"}`, "schedule", "must be an object"},
		{"every not a string", `{"schedule":{"every":300}}`, "schedule.every", "must be a string"},
		{"two spellings", `{"schedule":{"every":"5m"},"Schedule":{"every":"5m"}}`, "Schedule", "given as both"},
		{"a part twice, folded", `{"schedule":{"tagKey":"a","TagKey":"b","every":"5m"}}`, "schedule.TagKey", "given more than once"},
		{"preview not a string", `{"schedule":{"every":"5m"},"preview":7}`, "preview", "must be a string"},
		{"preview empty", `{"schedule":{"every":"5m"},"preview":""}`, "preview", "is empty"},
		{"workDates element", `{"instanceIds":["i-bp67acfmxazb4p0001"],"workDates":["2027-02-20",5]}`, "workDates[1]", "must be a string"},
		{"misspelt outer", `{"Schedules":{"every":"5m"}}`, "Schedules", "did you mean schedule?"},
		{"inside targets", `{"targets":[{"regionId":"cn-hangzhou","schedule":{"evry":"5m"}}]}`, "targets[0].schedule.evry", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			for _, e := range m.Errors {
				if e.Field == tc.field && strings.Contains(e.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("no error %s: %q in %+v", tc.field, tc.msg, m.Errors)
		})
	}
}
