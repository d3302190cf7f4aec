package plan

import (
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

func TestValidate(t *testing.T) {
	ok := events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-bp67acfmxazb4p0001"}}
	cases := []struct {
		name  string
		req   events.StartRequest
		field string // "" for valid
		says  string
	}{
		{"valid", ok, "", ""},
		{"no region is resolved later", events.StartRequest{InstanceIDs: ok.InstanceIDs}, "", ""},
		{"long region", events.StartRequest{RegionID: "cn-shanghai-finance-1", InstanceIDs: ok.InstanceIDs}, "", ""},
		{"any spelling of the batch", events.StartRequest{InstanceIDs: ok.InstanceIDs, BatchOptimization: "alltogether"}, "", ""}, //nolint:misspell // ECS's AllTogether, lower-cased
		{"no IDs", events.StartRequest{RegionID: "cn-hangzhou"}, "instanceIds", "at least one"},
		{"empty IDs", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{}}, "instanceIds", "at least one"},
		{"malformed ID", events.StartRequest{InstanceIDs: []string{"i-bp67acfmxazb4p0001", "i-BAD"}}, "instanceIds[1]", `"i-BAD" is not an instance ID`},
		{"short ID", events.StartRequest{InstanceIDs: []string{"i-abc"}}, "instanceIds[0]", "6 to 30"},
		{"bad region", events.StartRequest{RegionID: "CN_HZ", InstanceIDs: ok.InstanceIDs}, "regionId", "not a region ID"},
		{"bad batch", events.StartRequest{InstanceIDs: ok.InstanceIDs, BatchOptimization: "Fastest"}, "batchOptimization", "Fastest"},
		{"bad notAfter", events.StartRequest{InstanceIDs: ok.InstanceIDs, NotAfter: "tomorrow"}, "notAfter", "RFC 3339"},
		{"AllTogether over 100", events.StartRequest{InstanceIDs: ecsapitest.IDs(101, "x"), BatchOptimization: "AllTogether"}, "instanceIds", "at most 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate(tc.req)
			if tc.field == "" {
				if len(errs) != 0 {
					t.Fatalf("valid request refused: %+v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == tc.field && strings.Contains(e.Message, tc.says) {
					return
				}
			}
			t.Fatalf("want an error on %s saying %q, got %+v", tc.field, tc.says, errs)
		})
	}
	if errs := Validate(events.StartRequest{InstanceIDs: ecsapitest.IDs(101, "y")}); len(errs) != 0 {
		t.Fatalf("SuccessFirst with 101 IDs is split, not refused: %+v", errs)
	}
}
