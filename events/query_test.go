package events

import "testing"

// A start request in ECS's query spelling, as a query string or a whole request
// URL, is accepted wherever a body is: a direct payload, a timer payload, a
// queue message. Prose with an equals sign is not taken for one.
func TestECSQuerySpelling(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		trigger Trigger
		ids     []string
		errs    bool
	}{
		{"direct query", `RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001&InstanceId.2=i-bp67acfmxazb4p0002`, Direct,
			[]string{"i-bp67acfmxazb4p0001", "i-bp67acfmxazb4p0002"}, false},
		{"direct URL", `https://ecs.aliyuncs.com/?Action=StartInstances&RegionId=cn-hangzhou&InstanceId=%5B%22i-bp67acfmxazb4p0001%22%5D`, Direct,
			[]string{"i-bp67acfmxazb4p0001"}, false},
		{"timer payload", `{"triggerTime":"2026-11-26T00:00:00Z","triggerName":"t","payload":"RegionId=cn-hangzhou&InstanceId=[\"i-bp67acfmxazb4p0001\"]"}`, Timer,
			[]string{"i-bp67acfmxazb4p0001"}, false},
		{"MNS message", `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":"RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001"}}`, MNS,
			[]string{"i-bp67acfmxazb4p0001"}, false},
		{"wrong action", `Action=StopInstances&InstanceId.1=i-bp67acfmxazb4p0001`, Direct, []string{"i-bp67acfmxazb4p0001"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := Decode([]byte(tc.payload))
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[0]
			if m.Ignored != "" || m.Trigger != tc.trigger || (len(m.Errors) > 0) != tc.errs {
				t.Fatalf("%+v", m)
			}
			if len(m.Request.InstanceIDs) != len(tc.ids) {
				t.Fatalf("IDs %v, want %v", m.Request.InstanceIDs, tc.ids)
			}
			for i, id := range tc.ids {
				if m.Request.InstanceIDs[i] != id {
					t.Fatalf("IDs %v, want %v", m.Request.InstanceIDs, tc.ids)
				}
			}
		})
	}
	for _, prose := range []string{"a=b", "start=i-bp67acfmxazb4p0001", "please start InstanceId=i-bp67acfmxazb4p0001 now"} {
		if m := Decode([]byte(prose))[0]; m.Ignored == "" {
			t.Errorf("%q taken for a request: %+v", prose, m)
		}
	}
}
