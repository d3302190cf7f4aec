package deploytest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// TestZippedBinaryServesEveryTrigger starts the binary from the zip that
// scripts/build.sh makes, with the environment s.yaml gives the function, under
// the FC runtime API emulator against the ECS emulator, and sends it what each
// trigger of s.yaml and of every s.*.yaml would: every timer's event, every
// queue trigger's sample message in its stream's batch, the ECS state-change
// and CloudMonitor rules' events, and a request to the HTTP trigger.
//
// Twice. As first deployed (DRY_RUN_ONLY unset in the deploy shell, so true):
// every instance they name must come back DryRunPassed, none Started, the
// weekday-morning timer's included. Then with DRY_RUN_ONLY=false exported:
// every instance must come back with a successful Outcome.
func TestZippedBinaryServesEveryTrigger(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the build of the function (scripts/build.sh)")
	}
	zipBytes, _ := sharedBuild(t)
	bin := unzipHandler(t, zipBytes)

	idRE := regexp.MustCompile(`i-[a-z0-9]{6,30}`)
	regionRE := regexp.MustCompile(`(?i)regionId\\?"\s*:\s*\\?"([a-z0-9-]+)`)
	type send struct {
		name    string
		payload []byte
		ids     []string
		// selects holds the tags of a payload that selects instances by tag
		// (DESIGN §3.1); the fleet gets instances that carry them.
		selects []map[string]string
	}
	var sends []send
	for _, tr := range triggers(t) {
		if tr.function != "start_ecs" && tr.function != "start-ecs" {
			continue
		}
		samples := obj(tr.vars, "samples")
		switch tr.typ {
		case "timer":
			payload := str(tr.config, "payload")
			now := time.Now().UTC()
			ev, _ := json.Marshal(map[string]string{"triggerTime": now.Format(time.RFC3339), "triggerName": tr.name, "payload": payload})
			sends = append(sends, send{tr.name, ev, idRE.FindAllString(payload, -1), append(selectedTags(payload), scheduleTags(payload, now)...)})
		case "http":
			body := `{"instanceIds":["i-bp67acfmxazb4p0001"]}`
			now := time.Now()
			ev, _ := json.Marshal(map[string]any{"version": "v1", "rawPath": "/", "headers": map[string]string{"Content-Type": "application/json"},
				"queryParameters": map[string]string{}, "body": body, "isBase64Encoded": false,
				"requestContext": map[string]any{"requestId": "1-test", "timeEpoch": strconv.FormatInt(now.UnixMilli(), 10),
					"http": map[string]any{"method": "POST", "path": "/", "sourceIp": "203.0.113.9"}}})
			sends = append(sends, send{tr.name, ev, []string{"i-bp67acfmxazb4p0001"}, nil})
		case "mns_topic":
			sample, _ := samples[tr.name].(string)
			sends = append(sends, send{tr.name, mnsTopicEvent(t, tr, sample), idRE.FindAllString(sample, -1), nil})
		case "eventbridge":
			st := str(tr.config, "eventSourceConfig", "eventSourceType")
			if st == "Default" {
				file := map[string]string{"ecs-stopped": "ecs-statechange-stopped.json", "cms-alarm": "cms-alert-webhook.json"}[tr.name]
				if file == "" {
					t.Errorf("no sample event for the rule trigger %s", tr.name)
					continue
				}
				ev, err := os.ReadFile(filepath.Join("testdata", file))
				if err != nil {
					t.Fatal(err)
				}
				// The samples' times are fixed: make them now, so they are not expired.
				var m map[string]any
				if err := json.Unmarshal(ev, &m); err != nil {
					t.Fatal(err)
				}
				// Every time they state: expiry runs from the earliest (DESIGN §4).
				m["time"] = time.Now().UTC().Format(time.RFC3339)
				if _, ok := m["aliyunpublishtime"]; ok {
					m["aliyunpublishtime"] = time.Now().UTC().Format(time.RFC3339Nano)
				}
				if d, ok := m["data"].(map[string]any); ok {
					if _, ok := d["timestamp"]; ok {
						d["timestamp"] = strconv.FormatInt(time.Now().UnixMilli(), 10)
					}
				}
				ev, _ = json.Marshal(m)
				sends = append(sends, send{tr.name, ev, uniq(idRE.FindAllString(string(ev), -1)), nil})
				continue
			}
			sample, _ := samples[tr.name].(string)
			payload, _ := envelope(t, st, sample)
			sends = append(sends, send{tr.name, payload, idRE.FindAllString(sample, -1), selectedTags(sample)})
		}
	}
	if len(sends) < 8 {
		t.Fatalf("only %d triggers to send", len(sends))
	}

	var fleet ecsemu.Fleet
	seen := map[string]bool{}
	for i := range sends {
		s := &sends[i]
		region := "cn-hangzhou"
		if m := regionRE.FindStringSubmatch(string(s.payload)); m != nil {
			region = m[1]
		}
		for g, sel := range s.selects {
			// Two instances carry the tags, one does not (and is left alone).
			for k, tags := range []map[string]string{sel, sel, {"other": "tag"}} {
				id := "i-zipsel" + strconv.Itoa(i) + "g" + strconv.Itoa(g) + "x" + strconv.Itoa(k)
				fleet.Instances = append(fleet.Instances, ecsemu.Instance{InstanceID: id, RegionID: region, Status: "Stopped", Tags: tags})
				seen[id] = true
				if k < 2 {
					s.ids = append(s.ids, id)
				}
			}
		}
		for _, id := range s.ids {
			if !seen[id] {
				seen[id] = true
				fleet.Instances = append(fleet.Instances, ecsemu.Instance{InstanceID: id, RegionID: region, Status: "Stopped",
					Tags: map[string]string{"auto-restart": "true"}})
			}
		}
	}
	for _, mode := range []struct {
		name string
		env  map[string]string // the deploy shell's
		// dryRunOnly: every instance must be DryRunPassed, none Started.
		dryRunOnly bool
	}{
		{"first deploy", deployEnv, true},
		{"DRY_RUN_ONLY=false", withEnv(deployEnv, "DRY_RUN_ONLY", "false"), false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			env := map[string]string{}
			for _, r := range fileResources(t, "s.yaml", mode.env) {
				if r.name == "start_ecs" || r.name == "start-ecs" {
					for k, v := range obj(r.resolved, "environmentVariables") {
						if s, _ := v.(string); s != "" {
							env[k] = s
						}
					}
				}
			}
			if env["HTTP_AUTH"] == "" {
				t.Fatal("found no environment of the start-ecs function")
			}
			h, err := harness.Start(context.Background(), harness.Options{Binary: bin, Fleet: fleet, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			for _, s := range sends {
				t.Run(s.name, func(t *testing.T) {
					sendTrigger(t, h, fleet, s.payload, s.ids, mode.dryRunOnly)
				})
			}
		})
	}
}

// sendTrigger invokes the function with one trigger's payload, the fleet
// reset, and checks that every instance named comes back DryRunPassed
// (dryRunOnly) or with a successful Outcome, and nothing else.
func sendTrigger(t *testing.T, h *harness.Harness, fleet ecsemu.Fleet, payload []byte, ids []string, dryRunOnly bool) {
	t.Helper()
	for _, in := range fleet.Instances {
		_ = h.ECS.SetInstance(in)
	}
	out, err := h.Invoke(context.Background(), fcemu.Invocation{Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if out.IsError {
		t.Fatalf("%s: %s", out.ErrorType, out.ErrorMessage)
	}
	var r result.Result
	var resp handler.HTTPResponse
	if json.Unmarshal(out.Payload, &resp) == nil && resp.StatusCode != 0 {
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, resp.Body)
		}
		out.Payload = []byte(resp.Body)
	}
	if err := json.Unmarshal(out.Payload, &r); err != nil {
		t.Fatalf("%v: %s", err, out.Payload)
	}
	got := map[string]result.Outcome{}
	for _, ir := range r.InstanceResponses.InstanceResponse {
		got[ir.InstanceID] = ir.Outcome
	}
	for _, id := range ids {
		o := got[id]
		switch {
		case dryRunOnly && o != result.DryRunPassed:
			t.Errorf("%s: outcome %q while DRY_RUN_ONLY is on: want DryRunPassed (result %s)", id, o, out.Payload)
		case o != result.Started && o != result.DryRunPassed:
			t.Errorf("%s: outcome %q (result %s)", id, o, out.Payload)
		}
	}
	if len(got) != len(uniq(ids)) || len(r.Ignored) != 0 {
		t.Errorf("result names %v and ignores %v, the trigger named %v", got, r.Ignored, ids)
	}
}

// withEnv is env with one variable set.
func withEnv(env map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for ek, ev := range env {
		out[ek] = ev
	}
	out[k] = v
	return out
}

// selectedTags are the tag sets a payload selects by (a pair without value
// as any value): one for a request, one per group of a sequence that
// selects; nil when it names instances instead.
func selectedTags(payload string) []map[string]string {
	msgs := events.Decode([]byte(payload))
	if len(msgs) != 1 {
		return nil
	}
	reqs := msgs[0].Request.Sequence
	if reqs == nil {
		reqs = []events.StartRequest{msgs[0].Request}
	}
	var out []map[string]string
	for _, r := range reqs {
		if r.Tags == nil || len(r.InstanceIDs) > 0 {
			continue
		}
		tags := map[string]string{}
		for _, t := range r.Tags {
			tags[t.Key] = "any"
			if t.Value != nil {
				tags[t.Key] = *t.Value
			}
		}
		out = append(out, tags)
	}
	return out
}

// scheduleTags are, for a schedule request fired at now, its tag key
// (SCHEDULE_TAG_KEY's start-schedule unless it names one) with a value due
// in the tick (DESIGN §3.2): now's minute, daily, in UTC; nil for any other
// payload.
func scheduleTags(payload string, now time.Time) []map[string]string {
	msgs := events.Decode([]byte(payload))
	if len(msgs) != 1 || msgs[0].Request.Schedule == nil {
		return nil
	}
	key := msgs[0].Request.Schedule.TagKey
	if key == "" {
		key = "start-schedule"
	}
	return []map[string]string{{key: now.Format("15:04") + " UTC"}}
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// unzipHandler writes the zip's one file, the function binary, to a temp dir.
func unzipHandler(t *testing.T, zipBytes []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("the zip holds %d files", len(zr.File))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	path := filepath.Join(t.TempDir(), zr.File[0].Name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, zr.File[0].Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
