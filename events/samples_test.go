package events

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	id1 = "i-bp67acfmxazb4p0001"
	id2 = "i-bp67acfmxazb4p0002"
	id3 = "i-bp67acfmxazb4p0003"
)

// want is what a test expects of one decoded Message; zero fields are checked too.
type want struct {
	trigger        Trigger
	source         string
	time           string // RFC 3339, "" for none
	ignored        string
	ids            []string
	region         string // Request.RegionID
	instanceRegion string
	sourceRegion   string
	restartTag     bool
	dryRun         bool
	batch          string
	errs           []string // the Field of each of Errors, in order
	tags           []TagFilter
	wait           string
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "events", name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

func check(t *testing.T, got []Message, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d messages, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		m := got[i]
		var errFields []string
		for _, e := range m.Errors {
			errFields = append(errFields, e.Field)
		}
		if !reflect.DeepEqual(errFields, w.errs) {
			t.Errorf("message %d: errors %+v, want fields %q", i, m.Errors, w.errs)
		}
		var gotTime string
		if !m.Time.IsZero() {
			gotTime = m.Time.UTC().Format(time.RFC3339Nano)
		}
		wantTime := ""
		if w.time != "" {
			wt, err := time.Parse(time.RFC3339Nano, w.time)
			if err != nil {
				t.Fatalf("bad want time %q", w.time)
			}
			wantTime = wt.UTC().Format(time.RFC3339Nano)
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"trigger", m.Trigger, w.trigger},
			{"source", m.Source, w.source},
			{"time", gotTime, wantTime},
			{"ignored", m.Ignored, w.ignored},
			{"instanceIds", m.Request.InstanceIDs, w.ids},
			{"regionId", m.Request.RegionID, w.region},
			{"instanceRegion", m.InstanceRegion, w.instanceRegion},
			{"sourceRegion", m.SourceRegion, w.sourceRegion},
			{"requireRestartTag", m.RequireRestartTag, w.restartTag},
			{"dryRun", m.Request.DryRun, w.dryRun},
			{"batchOptimization", m.Request.BatchOptimization, w.batch},
			{"tags", m.Request.Tags, w.tags},
			{"wait", m.Request.Wait, w.wait},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("message %d: %s = %#v, want %#v", i, c.what, c.got, c.want)
			}
		}
	}
}

func TestDecodeSamples(t *testing.T) {
	const mnsQueue = "mns:acs:mns:cn-hangzhou:1234567890123456:queues/start-ecs/"
	ids12 := []string{id1, id2}
	tests := []struct {
		file  string
		wants []want
	}{
		// The platform's own samples, as published: their bodies name nothing.
		{"sdk-timer-1.json", []want{{trigger: Timer, source: "timer:TestTimer", time: "2022-07-29T10:02:58Z",
			ignored: "timer payload is not JSON"}}},
		{"sdk-mns_queue-1.json", []want{{trigger: MNS,
			source: "mns:acs:mns:cn-hangzhou:164901546557****:queues/zeus/C6DB60D1574661357FA227277445****",
			time:   "2021-04-08T06:28:17.093Z", ignored: ReasonNotRequest, sourceRegion: "cn-chengdu"}}},
		{"sdk-mns_topic-1.json", []want{{trigger: MNSTopic, source: "mns-topic:fc-example/3405CA51807661353B3xxxxxxxx",
			time: "2022-07-19T12:59:18.094Z", ignored: ReasonNotRequest}}},
		{"fc3-template-mns-with-MessageAttributes.json", []want{{trigger: MNSTopic,
			source: "mns-topic:test-topic/2F5B3C281B283D4EAC694B742528****", time: "2019-02-15T07:38:22.888Z", ignored: ReasonNotRequest}}},
		{"fc3-template-mns-without-MessageAttributes.json", []want{{trigger: MNSTopic,
			source: "mns-topic:test-topic/2F5B3C082B923D4EAC694B76D928****", time: "2019-02-15T07:41:20.04Z", ignored: ReasonNotRequest}}},
		{"fc3-template-mns-stream.json", []want{{trigger: MNSTopic, source: "mns-topic:stream", ignored: ReasonNotRequest}}},
		{"sdk-rocketmq-1.json", []want{{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb****",
			time: "2021-04-08T06:01:20.766Z", ignored: ReasonNotRequest, sourceRegion: "cn-chengdu"}}},
		{"sdk-rocketmq-2.json", []want{
			{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb****", time: "2021-04-08T06:01:20.766Z", ignored: ReasonNotRequest, sourceRegion: "cn-chengdu"},
			{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb****", time: "2021-04-08T06:01:20.766Z", ignored: ReasonNotRequest, sourceRegion: "cn-chengdu"},
		}},
		// The Python-bytes value b'{"Test": …}' is unwrapped: JSON, but not a request.
		{"sdk-kafka_eventbridge-1.json", []want{{trigger: Kafka, source: "kafka:1cb591f9-987e-41d9-b974-0342e9acb90a",
			time: "2022-08-01T09:32:56.797Z", ignored: ReasonNotRequest}}},

		// This project's samples, whose bodies hold start requests.
		{"direct-start.json", []want{{trigger: Direct, source: "direct", ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"direct-ecs-spelling.json", []want{{trigger: Direct, source: "direct", ids: ids12, region: "cn-hangzhou", batch: "AllTogether"}}},
		{"direct-ecs-indexed.json", []want{{trigger: Direct, source: "direct", ids: []string{id1, id2, id3}, region: "cn-hangzhou", dryRun: true}}},
		// DESIGN §9: an unpaid instance and a typo in one batch (the local
		// runner's -notify example).
		{"direct-unpaid-and-typo.json", []want{
			{trigger: Direct, source: "direct[0]", ids: []string{"i-bp1nobalance00001"}, region: "cn-hangzhou"},
			{trigger: Direct, source: "direct[1]", region: "cn-hangzhou", errs: []string{"instanceID"}}}},
		{"timer-start.json", []want{{trigger: Timer, source: "timer:weekday-morning", time: "2026-11-26T00:30:00Z",
			ids: []string{id1, id2, id3}, region: "cn-hangzhou"}}},
		{"timer-tags-wait.json", []want{{trigger: Timer, source: "timer:dev-morning", time: "2026-11-26T00:30:00Z",
			region: "cn-hangzhou", tags: []TagFilter{{Key: "env", Value: strp("dev")}}, wait: "true"}}},
		{"mns-queue-start.json", []want{{trigger: MNS, source: mnsQueue + "C6DB60D1574661357FA22727744590B2",
			time: "2026-11-26T00:59:58.123Z", ids: ids12, region: "cn-hangzhou", sourceRegion: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"mns-queue-base64.json", []want{{trigger: MNS, source: mnsQueue + "C6DB60D1574661357FA22727744590B3",
			time: "2026-11-26T00:59:58.123Z", ids: ids12, region: "cn-hangzhou", sourceRegion: "cn-hangzhou", batch: "SuccessFirst"}}},
		// An ECS notification carried in a queue message: the earlier (event) time wins.
		{"mns-queue-ecs-notification.json", []want{{trigger: ECSEvent,
			source: "mns:acs:mns:cn-hangzhou:1234567890123456:queues/ecs-events/C6DB60D1574661357FA22727744590B4",
			time:   "2026-11-26T00:59:58.058Z", ids: []string{id3}, instanceRegion: "cn-hangzhou", sourceRegion: "cn-hangzhou", restartTag: true}}},
		{"mns-topic-start.json", []want{{trigger: MNSTopic, source: "mns-topic:start-ecs/2F5B3C281B283D4EAC694B7425280001",
			time: "2026-11-26T00:59:58Z", ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"mns-topic-stream-start.json", []want{{trigger: MNSTopic, source: "mns-topic:stream", ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"mns-topic-stream-raw.txt", []want{{trigger: MNSTopic, source: "mns-topic:stream", ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"rocketmq-start.json", []want{{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb0001",
			time: "2026-11-26T00:59:58.123Z", ids: ids12, region: "cn-hangzhou", sourceRegion: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"rocketmq-batch-start.json", []want{
			{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb0002", time: "2026-11-26T00:59:58.123Z",
				ids: []string{id1}, region: "cn-hangzhou", sourceRegion: "cn-hangzhou"},
			{trigger: RocketMQ, source: "rocketmq:94ebc15f-f0db-4bbe-acce-56fb72fb0003", time: "2026-11-26T00:59:58.123Z",
				ids: []string{id2, id3}, region: "cn-hangzhou", sourceRegion: "cn-hangzhou"},
		}},
		{"kafka-start.json", []want{
			{trigger: Kafka, source: "kafka:1cb591f9-987e-41d9-b974-0342e9ac0001", time: "2026-11-26T00:59:59.001Z",
				ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"},
			{trigger: Kafka, source: "kafka:1cb591f9-987e-41d9-b974-0342e9ac0002", time: "2026-11-26T00:59:59.002Z", ids: []string{id3}},
		}},
		{"rabbitmq-start.json", []want{{trigger: RabbitMQ, source: "rabbitmq:8b09e19b-8cbd-4c46-ab77-9cc39c440001",
			time: "2026-11-26T00:59:58.123Z", ids: ids12, region: "cn-hangzhou", sourceRegion: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"rawdata-mns-queue.json", []want{{trigger: MNS, source: "mns:C6DB60D1574661357FA22727744590B5",
			ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"rawdata-custom-event.json", []want{{trigger: Direct, source: "event:0f9a8b7c-6d5e-4f3a-9b2c-1d0e0f0a0001",
			time: "2026-11-26T00:59:58.123Z", ids: ids12, region: "cn-hangzhou", sourceRegion: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"ecs-state-stopped.json", []want{{trigger: ECSEvent, source: "ecs-event:45ef4dew-7c35-447a-bd93-fab000000001",
			time: "2026-11-26T00:59:58Z", ids: []string{id1}, instanceRegion: "cn-hangzhou", sourceRegion: "cn-hangzhou", restartTag: true}}},
		// DESIGN §4: the notification layout inside data (data.content.state,
		// data.content.resourceId, data.regionId); its eventTime comes first.
		{"ecs-state-stopped-notification.json", []want{{trigger: ECSEvent, source: "ecs-event:45ef4dew-7c35-447a-bd93-fab000000004",
			time: "2026-11-26T00:59:57.912Z", ids: []string{id2}, instanceRegion: "cn-hangzhou", sourceRegion: "cn-hangzhou", restartTag: true}}},
		{"ecs-state-running.json", []want{{trigger: ECSEvent, source: "ecs-event:45ef4dew-7c35-447a-bd93-fab000000002",
			time: "2026-11-26T00:59:58Z", ignored: "state changed to Running, not Stopped", sourceRegion: "cn-hangzhou", restartTag: true}}},
		// DESIGN §4: the earliest time the event states, here the alarm's
		// timestamp, which comes before the CloudEvent's time.
		{"cms-alarm-alert.json", []want{{trigger: CMSAlarm, source: "cms-alarm:a1b2c3d4-0000-4000-8000-000000000001",
			time: "2026-11-26T00:59:50Z", ids: []string{id1}, instanceRegion: "cn-hangzhou", sourceRegion: "cn-hangzhou"}}},
		// DESIGN §3.1: a sequence decodes as one request holding its groups
		// (TestDecodeTargetsAndRoleArn checks the fields of targets).
		{"direct-sequence.json", []want{{trigger: Direct, source: "direct"}}},
		{"cms-alarm-ok.json", []want{{trigger: CMSAlarm, source: "cms-alarm:putNewAlarm_user_7a6b5c4d-0001",
			time: "2026-11-26T00:59:50Z", ignored: "alarm state OK"}}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			payload := readSample(t, tc.file)
			if _, ok, _ := ParseHTTP(payload); ok {
				t.Fatal("ParseHTTP claims a non-HTTP sample")
			}
			check(t, Decode(payload), tc.wants)
		})
	}
	// Every sample is decoded by this test or by TestHTTPSamples.
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "events", "*"))
	for _, f := range files {
		name := filepath.Base(f)
		if !seen[name] && !strings.HasPrefix(name, "http-") && name != "fc3-template-http.json" && name != "README.md" {
			t.Errorf("sample %s is not tested", name)
		}
	}
}

func TestHTTPSamples(t *testing.T) {
	const src = "http:1-6745f1a0-8c5e2d1f3a4b5c6d7e8f9012"
	const at = "2026-11-26T01:00:00Z"
	ids12 := []string{id1, id2}
	tests := []struct {
		file   string
		method string
		query  map[string]string
		wants  []want
	}{
		{"http-json.json", "POST", map[string]string{},
			[]want{{trigger: HTTP, source: src, time: at, ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"http-base64.json", "POST", map[string]string{},
			[]want{{trigger: HTTP, source: src, time: at, ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"http-form.json", "POST", map[string]string{},
			[]want{{trigger: HTTP, source: src, time: at, ids: ids12, region: "cn-hangzhou", batch: "SuccessFirst"}}},
		{"http-query.json", "GET", map[string]string{"token": "change-me-webhook-secret", "Action": "StartInstances",
			"RegionId": "cn-hangzhou", "InstanceId.1": id1, "InstanceId.2": id2, "DryRun": "true", "Format": "XML"},
			[]want{{trigger: HTTP, source: src, time: at, ids: ids12, region: "cn-hangzhou", dryRun: true}}},
		{"http-cms-alarm-callback.json", "POST", map[string]string{"token": "change-me-webhook-secret"},
			[]want{{trigger: CMSAlarm, source: "cms-alarm:putNewAlarm_user_7a6b5c4d-0001", time: "2026-11-26T00:59:50Z", ids: []string{id1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r, ok, err := ParseHTTP(readSample(t, tc.file))
			if !ok || err != nil {
				t.Fatalf("ParseHTTP: ok=%v err=%v", ok, err)
			}
			if r.Method != tc.method || r.SourceIP != "203.0.113.7" || r.TimeEpochMs != 1795654800000 || r.RawPath != "/start" {
				t.Errorf("envelope: method %q ip %q time %d path %q", r.Method, r.SourceIP, r.TimeEpochMs, r.RawPath)
			}
			if !reflect.DeepEqual(r.Query, tc.query) {
				t.Errorf("query = %v, want %v", r.Query, tc.query)
			}
			msgs, errs := DecodeHTTP(r)
			if len(errs) > 0 {
				t.Fatalf("errs: %+v", errs)
			}
			check(t, msgs, tc.wants)
		})
	}

	t.Run("fc3-template-http.json", func(t *testing.T) {
		r, ok, err := ParseHTTP(readSample(t, "fc3-template-http.json"))
		if !ok || err != nil {
			t.Fatalf("ParseHTTP: ok=%v err=%v", ok, err)
		}
		if string(r.Body) != "haha" || r.TimeEpochMs != 1692281291805 || r.Method != "POST" || r.SourceIP != "112.10.236.5" || r.Version != "v1" {
			t.Errorf("envelope: %+v", r)
		}
		if got := r.Header("content-type"); got != "application/octet-stream" {
			t.Errorf("Header(content-type) = %q", got)
		}
		if got := r.Header("X-ACS-ACTION"); got != "InvokeFunction" {
			t.Errorf("Header(X-ACS-ACTION) = %q", got)
		}
		msgs, errs := DecodeHTTP(r)
		if len(msgs) != 0 || len(errs) != 1 || errs[0].Field != "body" {
			t.Fatalf("a body of plain text: msgs %+v errs %+v, want one error on body", msgs, errs)
		}
		if strings.Contains(errs[0].Message, "haha") {
			t.Errorf("error quotes the body: %q", errs[0].Message)
		}
	})
}

// An event that names an instance without asking to start it (a state
// change to Running, an alarm back to OK) still names it: the instance goes
// with its Ignored entry, so none an event names is missing from the result.
func TestNewsNamesItsInstances(t *testing.T) {
	for _, name := range []string{"ecs-state-running.json", "cms-alarm-ok.json"} {
		body, err := os.ReadFile(filepath.Join("..", "testdata", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		msgs := Decode(body)
		if len(msgs) != 1 || msgs[0].Ignored == "" || !slices.Equal(msgs[0].Named, []string{"i-bp67acfmxazb4p0001"}) {
			t.Errorf("%s: %+v, want it ignored naming i-bp67acfmxazb4p0001", name, msgs)
		}
	}
}
