package events

import (
	"reflect"
	"strings"
	"testing"
)

// skipDates and timeZone decode as sent (DESIGN §3.1), inside a timer's
// payload too; a defect names the element.
func TestDecodeSkipDatesAndTimeZone(t *testing.T) {
	msgs := Decode([]byte(`{"triggerTime":"2026-12-24T17:00:00Z","triggerName":"morning","payload":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"],\"skipDates\":[\"2026-12-25\",\"2027-01-01\"],\"timeZone\":\"Asia/Shanghai\"}"}`))
	if len(msgs) != 1 || len(msgs[0].Errors) > 0 {
		t.Fatalf("%+v", msgs)
	}
	r := msgs[0].Request
	if !reflect.DeepEqual(r.SkipDates, []string{"2026-12-25", "2027-01-01"}) || r.TimeZone != "Asia/Shanghai" || msgs[0].Time.IsZero() {
		t.Fatalf("%+v", msgs[0])
	}
	for payload, field := range map[string]string{
		`{"instanceIds":["i-bp67acfmxazb4p0001"],"skipDates":["2026-12-25",20261225]}`: "skipDates[1]",
		`{"instanceIds":["i-bp67acfmxazb4p0001"],"skipDates":"2026-12-25"}`:            "skipDates",
		`{"instanceIds":["i-bp67acfmxazb4p0001"],"timeZone":8}`:                        "timeZone",
		`{"instanceIds":["i-bp67acfmxazb4p0001"],"holidays":["2026-12-25"]}`:           "holidays",
	} {
		msgs := Decode([]byte(payload))
		if len(msgs) != 1 || len(msgs[0].Errors) == 0 || msgs[0].Errors[0].Field != field {
			t.Errorf("%s: %+v, want an error naming %s", payload, msgs, field)
		}
	}
	if msgs := Decode([]byte(`{"instanceIds":["i-bp67acfmxazb4p0001"],"holidays":["2026-12-25"]}`)); !strings.Contains(msgs[0].Errors[0].Message, "skipDates") {
		t.Errorf("holidays: %+v, want a hint at skipDates", msgs[0].Errors)
	}
}

// targets and roleArn decode (DESIGN §3.1): each target like a request, its
// defects named targets[i].<field>.
func TestDecodeTargetsAndRoleArn(t *testing.T) {
	msgs := Decode([]byte(`{"dryRun":true,"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]},
		{"regionId":"cn-shanghai","roleArn":"acs:ram::1222333444555666:role/start-ecs-target","tags":[{"key":"app"}]}]}`))
	if len(msgs) != 1 || len(msgs[0].Errors) > 0 {
		t.Fatalf("%+v", msgs)
	}
	r := msgs[0].Request
	if !r.DryRun || len(r.Targets) != 2 || r.Targets[0].RegionID != "cn-hangzhou" || r.Targets[1].RoleArn != "acs:ram::1222333444555666:role/start-ecs-target" ||
		len(r.Targets[1].Tags) != 1 {
		t.Fatalf("%+v", r)
	}
	for payload, field := range map[string]string{
		`{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"]},{"regionId":"cn-shanghai","instanceIds":[7]}]}`: "targets[1].instanceIds[0]",
		`{"targets":[{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"rolearn":"x"}]}`:                                "targets[0].rolearn",
		`{"targets":["cn-hangzhou"]}`:                           "targets[0]",
		`{"targets":{"regionId":"cn-hangzhou"}}`:                "targets",
		`{"instanceIds":["i-bp67acfmxazb4p0001"],"roleArn":12}`: "roleArn",
	} {
		msgs := Decode([]byte(payload))
		if len(msgs) != 1 || len(msgs[0].Errors) == 0 || msgs[0].Errors[0].Field != field {
			t.Errorf("%s: %+v, want an error naming %s", payload, msgs, field)
		}
	}
}

// The local runner's sequence sample decodes to its two groups, the second
// with its two targets, one through a role.
func TestDecodeSequenceSample(t *testing.T) {
	msgs := Decode(readSample(t, "direct-sequence.json"))
	if len(msgs) != 1 || len(msgs[0].Errors) > 0 {
		t.Fatalf("%+v", msgs)
	}
	seq := msgs[0].Request.Sequence
	if len(seq) != 2 || len(seq[0].InstanceIDs) != 1 || len(seq[1].Targets) != 2 || seq[1].Targets[1].RoleArn == "" {
		t.Fatalf("%+v", msgs[0].Request)
	}
}
