package ecsemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
)

// A schedule lookup (DESIGN §3.2) asks DescribeInstances for Tag.1.Key
// alone: every instance of the region carrying the key, whatever its value,
// page after page. The sample fleet (testdata/fleet.json, docs/local.md)
// holds such instances with a schedule, a name, off and an invalid value.
func TestEmuScheduleKeyAloneOnTheSampleFleet(t *testing.T) {
	fleet, err := LoadFleet(filepath.Join("..", "..", "testdata", "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, Options{Fleet: fleet})
	values := map[string]string{}
	token, pages := "", 0
	for {
		p := url.Values{"RegionId": {"cn-hangzhou"}, "Tag.1.Key": {"start-schedule"}, "MaxResults": {"2"}}
		if token != "" {
			p.Set("NextToken", token)
		}
		a := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", p))
		var out struct {
			NextToken string
			Instances struct {
				Instance []struct {
					InstanceID string `json:"InstanceId"`
					Tags       struct {
						Tag []struct{ TagKey, TagValue string }
					}
				}
			}
		}
		if a.status != 200 || json.Unmarshal([]byte(a.raw), &out) != nil {
			t.Fatalf("page %d: %d %.300s", pages, a.status, a.raw)
		}
		pages++
		for _, in := range out.Instances.Instance {
			for _, tg := range in.Tags.Tag {
				if tg.TagKey == "start-schedule" {
					values[in.InstanceID] = tg.TagValue
				}
			}
			if _, ok := values[in.InstanceID]; !ok {
				t.Fatalf("%s does not carry start-schedule", in.InstanceID)
			}
		}
		if token = out.NextToken; token == "" {
			break
		}
	}
	want := map[string]string{
		"i-bpsched00000001": "08:00 workdays Asia/Shanghai", "i-bpsched00000002": "office",
		"i-bpsched00000003": "07:30,13:00 MON-FRI", "i-bpsched00000004": "off", "i-bpsched00000005": "8am",
	}
	if pages != 3 || len(values) != len(want) {
		t.Fatalf("%d pages, %v; want 3 pages of %v", pages, values, want)
	}
	for id, v := range want {
		if values[id] != v {
			t.Errorf("%s: %q, want %q", id, values[id], v)
		}
	}
}
