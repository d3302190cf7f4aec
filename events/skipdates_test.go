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
