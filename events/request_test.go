package events

import (
	"reflect"
	"strings"
	"testing"
)

// decodeOne decodes a direct payload that must give exactly one message.
func decodeOne(t *testing.T, payload string) Message {
	t.Helper()
	msgs := Decode([]byte(payload))
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1: %+v", len(msgs), msgs)
	}
	return msgs[0]
}

func TestDecodeRequestSpellings(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    StartRequest
	}{
		// DESIGN §3: the default batch optimisation follows the spelling
		// of the IDs: ECS's (InstanceId, InstanceId.N, InstanceId=["…"])
		// takes ECS's AllTogether; instanceIds keeps SuccessFirst.
		{"lower camel", `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"batchOptimization":"AllTogether","dryRun":true,"notAfter":"2026-11-26T09:00:00Z"}`,
			StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{id1}, BatchOptimization: "AllTogether", DryRun: true, DryRunSet: true, NotAfter: "2026-11-26T09:00:00Z",
				IDFields: []string{"instanceIds[0]"}}},
		{"ECS array", `{"RegionId":"cn-hangzhou","InstanceId":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]}`,
			StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{id1, id2}, IDFields: []string{"InstanceId[0]", "InstanceId[1]"},
				FieldNames: map[string]string{"regionId": "RegionId", "instanceIds": "InstanceId"}, DefaultBatch: "AllTogether"}},
		{"ECS array in a string", `{"RegionId":"cn-hangzhou","InstanceId":"[\"i-bp67acfmxazb4p0001\"]"}`,
			StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{id1}, IDFields: []string{"InstanceId[0]"},
				FieldNames: map[string]string{"regionId": "RegionId", "instanceIds": "InstanceId"}, DefaultBatch: "AllTogether"}},
		{"ECS comma-separated", `{"InstanceId":"i-bp67acfmxazb4p0001,i-bp67acfmxazb4p0002"}`,
			StartRequest{InstanceIDs: []string{id1, id2}, IDFields: []string{"InstanceId[0]", "InstanceId[1]"},
				FieldNames: map[string]string{"instanceIds": "InstanceId"}, DefaultBatch: "AllTogether"}},
		// DESIGN §5: values are taken as sent, so the space after the comma stays
		// (and the validator refuses " i-…").
		{"ECS comma-separated, space kept", `{"InstanceId":"i-bp67acfmxazb4p0001, i-bp67acfmxazb4p0002"}`,
			StartRequest{InstanceIDs: []string{id1, " " + id2}, IDFields: []string{"InstanceId[0]", "InstanceId[1]"},
				FieldNames: map[string]string{"instanceIds": "InstanceId"}, DefaultBatch: "AllTogether"}},
		{"ECS numbered, in the order of N", `{"InstanceId.2":"i-bp67acfmxazb4p0002","InstanceId.3":"i-bp67acfmxazb4p0003","InstanceId.1":"i-bp67acfmxazb4p0001"}`,
			StartRequest{InstanceIDs: []string{id1, id2, id3}, IDFields: []string{"InstanceId.1", "InstanceId.2", "InstanceId.3"},
				FieldNames: map[string]string{"instanceIds": "InstanceId.N"}, DefaultBatch: "AllTogether"}},
		{"DryRun as a string", `{"InstanceId":["i-bp67acfmxazb4p0001"],"DryRun":"TRUE"}`,
			StartRequest{InstanceIDs: []string{id1}, DryRun: true, DryRunSet: true, IDFields: []string{"InstanceId[0]"},
				FieldNames: map[string]string{"instanceIds": "InstanceId", "dryRun": "DryRun"}, DefaultBatch: "AllTogether"}},
		{"common parameters ignored", `{"Action":"StartInstances","Version":"2014-05-26","AccessKeyId":"LTAI0000","Signature":"x","SignatureMethod":"HMAC-SHA1","SignatureNonce":"n","SignatureVersion":"1.0","Timestamp":"2026-11-26T01:00:00Z","Format":"JSON","RegionId":"cn-hangzhou","InstanceId.1":"i-bp67acfmxazb4p0001"}`,
			StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{id1}, IDFields: []string{"InstanceId.1"},
				FieldNames: map[string]string{"instanceIds": "InstanceId.N", "regionId": "RegionId"}, DefaultBatch: "AllTogether"}},
		{"each field in its own spelling", `{"regionId":"cn-hangzhou","InstanceId.1":"i-bp67acfmxazb4p0001","DryRun":false}`,
			StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{id1}, DryRunSet: true, IDFields: []string{"InstanceId.1"},
				FieldNames: map[string]string{"instanceIds": "InstanceId.N", "dryRun": "DryRun"}, DefaultBatch: "AllTogether"}},
		{"null is absent", `{"regionId":null,"instanceIds":["i-bp67acfmxazb4p0001"]}`,
			StartRequest{InstanceIDs: []string{id1}, IDFields: []string{"instanceIds[0]"}}},
		{"IDs kept as sent (validation is the handler's)", `{"instanceIds":["bad id","i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0001"]}`,
			StartRequest{InstanceIDs: []string{"bad id", id1, id1}, IDFields: []string{"instanceIds[0]", "instanceIds[1]", "instanceIds[2]"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" || len(m.Errors) > 0 {
				t.Fatalf("ignored %q errors %+v", m.Ignored, m.Errors)
			}
			if m.Trigger != Direct || m.Source != "direct" {
				t.Errorf("trigger %q source %q", m.Trigger, m.Source)
			}
			if !reflect.DeepEqual(m.Request, tc.want) {
				t.Errorf("request = %+v, want %+v", m.Request, tc.want)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		field   string // the field the (first) error names
		message string // a part of its message
	}{
		{"mixed region spellings", `{"regionId":"cn-hangzhou","RegionId":"cn-shanghai","instanceIds":["i-bp67acfmxazb4p0001"]}`, "RegionId", "both RegionId and regionId"},
		{"InstanceId and InstanceId.1", `{"InstanceId":["i-bp67acfmxazb4p0001"],"InstanceId.1":"i-bp67acfmxazb4p0002"}`, "InstanceId.1", "both InstanceId and InstanceId.N"},
		{"instanceIds and InstanceId", `{"instanceIds":["i-bp67acfmxazb4p0001"],"InstanceId":"i-bp67acfmxazb4p0002"}`, "InstanceId", "use one spelling"},
		{"dryRun and DryRun", `{"instanceIds":["i-bp67acfmxazb4p0001"],"dryRun":true,"DryRun":"true"}`, "DryRun", "use one spelling"},
		{"wrong Action", `{"Action":"StopInstances","InstanceId.1":"i-bp67acfmxazb4p0001"}`, "Action", "must be StartInstances"},
		{"Action not a string", `{"Action":1,"InstanceId.1":"i-bp67acfmxazb4p0001"}`, "Action", "must be StartInstances"},
		{"typo instanceID", `{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`, "instanceID", "did you mean instanceIds"},
		{"unknown field", `{"instanceIds":["i-bp67acfmxazb4p0001"],"shutdown":[]}`, "shutdown", "unknown field"},
		{"region not a string", `{"regionId":7,"instanceIds":["i-bp67acfmxazb4p0001"]}`, "regionId", "must be a string"},
		{"instanceIds not an array", `{"instanceIds":{"id":"i-bp67acfmxazb4p0001"}}`, "instanceIds", "must be an array"},
		{"instanceIds element not a string", `{"instanceIds":["i-bp67acfmxazb4p0001",42]}`, "instanceIds[1]", "must be a string"},
		{"InstanceId string holding broken JSON", `{"InstanceId":"[\"i-bp67acfmxazb4p0001\""}`, "InstanceId", "must be an array"},
		{"dryRun not a boolean", `{"instanceIds":["i-bp67acfmxazb4p0001"],"dryRun":"yes"}`, "dryRun", "true or false"},
		{"DryRun a number", `{"InstanceId":["i-bp67acfmxazb4p0001"],"DryRun":1}`, "DryRun", "true or false"},
		{"bad index", `{"InstanceId.0":"i-bp67acfmxazb4p0001"}`, "InstanceId.0", "InstanceId.1"},
		{"index with a leading zero", `{"InstanceId.01":"i-bp67acfmxazb4p0001"}`, "InstanceId.01", "InstanceId.1"},
		{"numbered ID not a string", `{"InstanceId.1":["i-bp67acfmxazb4p0001"]}`, "InstanceId.1", "one instance ID"},
		// An index after a gap, or a huge one, names the key; a
		// field sent empty is not taken for "absent".
		{"a gap in the indexes", `{"InstanceId.1":"i-bp67acfmxazb4p0001","InstanceId.3":"i-bp67acfmxazb4p0002"}`, "InstanceId.3", "InstanceId.2 is missing"},
		{"a huge index alone", `{"InstanceId.4294967297":"i-bp67acfmxazb4p0001"}`, "InstanceId.4294967297", "InstanceId.1 is missing"},
		{"a gap after a null", `{"InstanceId.1":null,"InstanceId.3":"i-bp67acfmxazb4p0001"}`, "InstanceId.3", "InstanceId.2 is missing"},
		{"a gap after an index of the wrong type", `{"InstanceId.1":"i-bp67acfmxazb4p0001","InstanceId.2":5,"InstanceId.4":5}`, "InstanceId.2", "one instance ID"},
		{"region empty", `{"regionId":"","instanceIds":["i-bp67acfmxazb4p0001"]}`, "regionId", "is empty"},
		{"RegionId empty", `{"RegionId":"","InstanceId.1":"i-bp67acfmxazb4p0001"}`, "RegionId", "is empty"},
		{"batchOptimization empty", `{"batchOptimization":"","instanceIds":["i-bp67acfmxazb4p0001"]}`, "batchOptimization", "is empty"},
		{"notAfter empty", `{"notAfter":"","instanceIds":["i-bp67acfmxazb4p0001"]}`, "notAfter", "is empty"},
		{"notAfter not a string", `{"instanceIds":["i-bp67acfmxazb4p0001"],"notAfter":1764118800}`, "notAfter", "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeOne(t, tc.payload)
			if m.Ignored != "" {
				t.Fatalf("ignored %q, want errors", m.Ignored)
			}
			if len(m.Errors) == 0 {
				t.Fatalf("no errors; request %+v", m.Request)
			}
			e := m.Errors[0]
			if e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error = %+v, want field %q with %q", e, tc.field, tc.message)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	vals := map[string][]string{
		"InstanceId": {`["i-bp67acfmxazb4p0001"]`, "i-bp67acfmxazb4p0002"},
		"RegionId":   {"cn-hangzhou"},
	}
	req, errs := decodeValues(vals)
	if len(errs) > 0 || req.RegionID != "cn-hangzhou" || !reflect.DeepEqual(req.InstanceIDs, []string{id1, id2}) {
		t.Errorf("repeated InstanceId: %+v %+v", req, errs)
	}
	_, errs = decodeValues(map[string][]string{"RegionId": {"cn-hangzhou", "cn-shanghai"}, "InstanceId": {id1}})
	if len(errs) != 1 || errs[0].Field != "RegionId" {
		t.Errorf("repeated RegionId: %+v", errs)
	}
}

// DESIGN §3: the default of batchOptimization follows the spelling. Instance
// IDs in ECS's spelling (InstanceId, InstanceId.N, InstanceId=["…"]) take
// ECS's documented default, AllTogether; instanceIds keeps SuccessFirst; a tag
// selection without IDs is SuccessFirst in either spelling; a batch
// optimisation the request sends wins. In every carrier.
func TestDefaultBatchFollowsTheSpelling(t *testing.T) {
	const all, first = "AllTogether", ""
	for _, tc := range []struct {
		name, request, want string
	}{
		{"instanceIds", `{"instanceIds":["i-bp67acfmxazb4p0001"]}`, first},
		{"InstanceId, a JSON array", `{"InstanceId":["i-bp67acfmxazb4p0001"]}`, all},
		{"InstanceId.N in JSON", `{"RegionId":"cn-hangzhou","InstanceId.1":"i-bp67acfmxazb4p0001"}`, all},
		{"InstanceId.N, query", `RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001`, all},
		{"InstanceId=[…], query", `RegionId=cn-hangzhou&InstanceId=["i-bp67acfmxazb4p0001"]`, all},
		{"ECS spelling with SuccessFirst sent", `RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001&BatchOptimization=SuccessFirst`, "SuccessFirst"},
		{"instanceIds with AllTogether sent", `{"instanceIds":["i-bp67acfmxazb4p0001"],"batchOptimization":"AllTogether"}`, all},
		{"Tag.N without IDs", `RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=dev`, first},
		{"tags without IDs", `{"tags":[{"key":"env"}]}`, first},
		{"Tag.N narrowing InstanceId.N", `RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001&Tag.1.Key=env`, all},
		{"a target in ECS's spelling", `{"targets":[{"RegionId":"cn-hangzhou","InstanceId":["i-bp67acfmxazb4p0001"]}]}`, first},
	} {
		for carrier, payload := range map[string]string{
			"direct":        tc.request,
			"timer payload": `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + quoted(tc.request) + `}`,
			"MNS body":      mnsQueueEvent(strings.Trim(quoted(tc.request), `"`)),
		} {
			m := decodeOne(t, payload)
			if m.Ignored != "" || len(m.Errors) > 0 {
				t.Fatalf("%s, %s: ignored %q errors %+v", tc.name, carrier, m.Ignored, m.Errors)
			}
			if got := m.Request.Batch(); got != tc.want {
				t.Errorf("%s, %s: batch %q, want %q", tc.name, carrier, got, tc.want)
			}
		}
	}
	// The target's own spelling gives the target's default.
	m := decodeOne(t, `{"targets":[{"RegionId":"cn-hangzhou","InstanceId":["i-bp67acfmxazb4p0001"]},{"instanceIds":["i-bp67acfmxazb4p0002"]}]}`)
	if got := []string{m.Request.Targets[0].Batch(), m.Request.Targets[1].Batch()}; got[0] != all || got[1] != first {
		t.Errorf("targets' batch %q, want %q and %q", got, all, first)
	}
}
