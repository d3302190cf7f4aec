package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// webhookSecret is the secret the HTTP samples in testdata/events carry.
const webhookSecret = "change-me-webhook-secret"

// sampleEnv is the configuration the samples are run with, as the local runner
// runs them: old sample timestamps are not expired, state-change events restart
// instances tagged auto-restart=true.
var sampleEnv = map[string]string{
	"MAX_EVENT_AGE":  "0",
	"WEBHOOK_SECRET": webhookSecret,
	"RESTART_TAG":    "auto-restart=true",
	// The fleet's role of account B, as the local runner allows it.
	"ALLOWED_ROLE_ARNS": "acs:ram::1222333444555666:role/start-ecs-target",
}

// TestEverySample sends every file of testdata/events through the real binary,
// with a fresh fleet for each, and compares the answer with its golden file in
// testdata/golden (go test ./internal/e2e -run TestEverySample -update rewrites
// them). Request IDs are blanked; everything else must match.
func TestEverySample(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(root, "testdata", "events", "*"))
	if err != nil || len(files) < 20 {
		t.Fatalf("found %d samples (%v)", len(files), err)
	}
	// As the local runner: a started instance stays Starting for 3 s, so
	// that a sample that waits polls, and the fleet's Starting instance is
	// still Starting when a sample looks it up, however loaded the machine.
	h := start(t, sampleEnv, ecsemu.Options{StartDelay: 3 * time.Second})
	fl := fleet(t)
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			for _, in := range fl.Instances {
				if err := h.ECS.SetInstance(in); err != nil {
					t.Fatal(err)
				}
			}
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out := invoke(t, h, payload)
			got := normalize(t, out)
			checkLogs(t, out)
			golden := filepath.Join(root, "testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden result (run with -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, golden, got, want)
			}
		})
	}
}

// normalize renders an answer with its volatile parts blanked: request IDs
// (FC's and ECS's). An HTTP answer's body is decoded so that the golden file
// shows it as JSON.
func normalize(t *testing.T, out *harness.Outcome) []byte {
	t.Helper()
	var v any
	if out.IsError {
		v = map[string]any{"error": out.ErrorType, "errorMessage": blankIDs(out.ErrorMessage, out.RequestID)}
	} else {
		if err := json.Unmarshal(out.Payload, &v); err != nil {
			t.Fatalf("answer is not JSON: %s", out.Payload)
		}
		if m, ok := v.(map[string]any); ok {
			if body, ok := m["body"].(string); ok {
				var b any
				if json.Unmarshal([]byte(body), &b) == nil {
					m["body"] = b
				} else {
					m["body"] = xmlIDs.ReplaceAllString(body, "<$1>$1</$1>")
				}
			}
		}
	}
	v = blank(v)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// xmlIDs finds the request IDs of an XML answer.
var xmlIDs = regexp.MustCompile(`<(RequestId|EcsRequestId)>[^<]+</(?:RequestId|EcsRequestId)>`)

func blankIDs(s, requestID string) string {
	return strings.ReplaceAll(s, requestID, "<requestId>")
}

func blank(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "RequestId", "EcsRequestId":
				if s, _ := val.(string); s != "" {
					x[k] = "<" + k + ">"
				}
			default:
				x[k] = blank(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = blank(x[i])
		}
	}
	return v
}

// checkLogs holds every invocation to DESIGN §5's log lines: one per instance
// result, one per ignored event, one summary.
func checkLogs(t *testing.T, out *harness.Outcome) {
	t.Helper()
	summaries := out.LogsOf("summary")
	if len(summaries) != 1 {
		t.Fatalf("%d summary lines in %v", len(summaries), out.Logs)
	}
	s := summaries[0]
	if n := len(out.LogsOf("instance")); float64(n) != s["requested"] {
		t.Errorf("%d instance lines, summary says %v requested", n, s["requested"])
	}
	if n := len(out.LogsOf("ignored")); float64(n) != s["ignored"] {
		t.Errorf("%d ignored lines, summary says %v", n, s["ignored"])
	}
	for _, l := range out.LogsOf("instance") {
		for _, k := range []string{"requestId", "trigger", "source", "retryCount", "instanceId", "regionId", "outcome", "code", "message", "advice", "durationMs"} {
			if _, ok := l[k]; !ok {
				t.Errorf("instance line lacks %s: %v", k, l)
			}
		}
		want := map[string]string{"Failed": "ERROR", "Rejected": "WARN", "Unfinished": "WARN"}[l["outcome"].(string)]
		if want == "" {
			want = "INFO"
		}
		if l["level"] != want {
			t.Errorf("outcome %v logged at %v, want %s", l["outcome"], l["level"], want)
		}
	}
}
