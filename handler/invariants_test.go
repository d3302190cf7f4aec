package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// The properties every invocation must keep, whatever its input and whatever
// ECS answers (DESIGN §5, §7): the fuzz targets, the catalogue of bad inputs
// and the fault matrix all check them with checkInvocation.

// Secrets of the invocations these tests make: the role's (from the FC
// context) and the webhook's.
var (
	invCreds = ecsapi.Credentials{ //nolint:gosec // G101: a fake credential, valid nowhere
		AccessKeyID:     "STS.NTestFuzzKeyId0001",
		AccessKeySecret: "Fz7kQp2Lm9Xc4Vb8Nw3Rt6Yu1Ia5Sd0Gh",
		SecurityToken:   "CAIS9xFuzzTokenQq1Ww2Ee3Rr4Tt5Yy6Uu7Ii8Oo9Pp0AaSsDdFfGgHhJjKkLl",
	}
	invWebhookSecret = "whk-7Qz2Lp9Xc4Vb8Nw3-secret"
)

// invContext is the FC context of an invocation with invCreds.
func invContext(ctx context.Context, requestID string) context.Context {
	return fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: requestID, Region: "cn-hangzhou",
		Credentials: fccontext.Credentials{AccessKeyId: invCreds.AccessKeyID, AccessKeySecret: invCreds.AccessKeySecret,
			SecurityToken: invCreds.SecurityToken}})
}

// acceptECS accepts every start of every instance (an ECS whose whole fleet is
// Stopped), so that any second accepted start of an instance in one
// invocation is the function's doing. It records what was sent.
type acceptECS struct {
	mu       sync.Mutex
	starts   []ecsapi.StartInstancesInput
	accepted map[string]int // region/id → accepted (non-dry-run) starts
}

func newAcceptECS() *acceptECS { return &acceptECS{accepted: map[string]int{}} }

func (a *acceptECS) StartInstances(_ context.Context, _ ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	in.InstanceIDs = append([]string(nil), in.InstanceIDs...)
	a.starts = append(a.starts, in)
	if in.DryRun {
		return nil, &ecsapi.APIError{HTTPStatus: 400, Code: "DryRunOperation", Message: "Request validation has been passed with DryRun flag set.", RequestID: "req-dry"}
	}
	out := &ecsapi.StartInstancesOutput{RequestID: "req-accept"}
	for _, id := range in.InstanceIDs {
		a.accepted[ecsapi.InstanceKey(ecsapi.Scope{Region: in.RegionID}, id)]++
		out.Responses = append(out.Responses, ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success",
			PreviousStatus: "Stopped", CurrentStatus: "Starting"})
	}
	return out, nil
}

func (a *acceptECS) DescribeInstances(_ context.Context, _ ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	out := &ecsapi.DescribeInstancesOutput{RequestID: "req-describe"}
	for _, id := range ids {
		out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: region, Status: "Stopped",
			Tags: map[string]string{"env": "prod"}})
	}
	return out, nil
}

func (a *acceptECS) DescribeInstanceStatus(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	return a.DescribeInstances(ctx, creds, region, ids)
}

// DescribeInstancesByTags finds two Stopped instances for any selection, in
// one page, so that selections by tag start something.
func (a *acceptECS) DescribeInstancesByTags(_ context.Context, _ ecsapi.Credentials, in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	out := &ecsapi.DescribeInstancesOutput{RequestID: "req-tags"}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	for _, id := range []string{"i-tagged000001", "i-tagged000002"} {
		out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: in.RegionID, Status: "Stopped", Tags: tags})
	}
	return out, nil
}

// sent is every (region/id) sent to StartInstances, and the accepted starts.
func (a *acceptECS) sent() (sent map[string]bool, accepted map[string]int, calls int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sent = map[string]bool{}
	for _, in := range a.starts {
		for _, id := range in.InstanceIDs {
			sent[ecsapi.InstanceKey(ecsapi.Scope{Region: in.RegionID}, id)] = true
		}
	}
	accepted = map[string]int{}
	for k, v := range a.accepted {
		accepted[k] = v
	}
	return sent, accepted, len(a.starts)
}

// logLine is one JSON log line of the function.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// parseLogs reads the JSON lines of one or more invocations; a line that is
// not JSON fails the test.
func parseLogs(t testing.TB, logs []byte) []logLine {
	t.Helper()
	var out []logLine
	for _, raw := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("a log line is not JSON (%v): %.200s", err, raw)
		}
		out = append(out, l)
	}
	return out
}

// invocationRun is what one invocation produced, for checkInvocation.
type invocationRun struct {
	input  []byte // everything the caller sent (for the secret check)
	answer []byte
	err    error
	logs   []byte
	// status is the HTTP status, 0 for other triggers.
	status int
	// sent, accepted and calls are what reached ECS (nil sent: not known).
	sent     map[string]bool
	accepted map[string]int
	calls    int
}

// reported is what the log lines of one invocation say of its instances.
type reported struct {
	instances map[string]logLine // region/id → its line
	ignored   map[string]bool    // IDs listed by `ignored` lines
	truncated bool               // an ignored line lists fewer IDs than it counts
	summary   logLine
}

// checkInvocation checks DESIGN §5's promises on one invocation and returns
// what it reported:
//   - exactly one summary line; each instance exactly once (one line per
//     region/id), and the same set in the answer when there is one;
//   - Retryable exactly for Unfinished, an error returned exactly when some
//     instance is Unfinished (HTTP: a 503, unless the caller asked async);
//   - only instances reported Started, AlreadyRunning or DryRunPassed (or
//     Unfinished) were sent to ECS: nothing Rejected, nothing of a 4xx;
//   - no instance got two accepted starts;
//   - no answer, error or log line holds the role's secret or token, a piece
//     of 16 characters of them, the webhook secret or a signature parameter,
//     unless the caller sent that piece itself.
func checkInvocation(t testing.TB, run invocationRun) reported {
	t.Helper()
	lines := parseLogs(t, run.logs)
	rep := reported{instances: map[string]logLine{}, ignored: map[string]bool{}}
	summaries := 0
	for _, l := range lines {
		switch l.str("msg") {
		case "summary":
			summaries++
			rep.summary = l
		case "instance":
			k := ecsapi.InstanceKey(ecsapi.Scope{Region: l.str("regionId")}, l.str("instanceId"))
			if _, dup := rep.instances[k]; dup {
				t.Fatalf("instance %s reported twice in the log", k)
			}
			rep.instances[k] = l
			if retryable, _ := l["retryable"].(bool); retryable != (l.str("outcome") == string(result.Unfinished)) {
				t.Fatalf("instance %s: retryable %v with outcome %s", k, retryable, l.str("outcome"))
			}
		case "ignored":
			list, _ := l["instanceIds"].([]any)
			for _, id := range list {
				s, _ := id.(string)
				rep.ignored[s] = true
			}
			if n, ok := l["instanceCount"].(float64); ok && int(n) > len(list) {
				rep.truncated = true
			}
		}
	}
	if summaries != 1 {
		t.Fatalf("%d summary lines, want 1:\n%s", summaries, run.logs)
	}
	unfinished := 0
	for _, l := range rep.instances {
		if l.str("outcome") == string(result.Unfinished) {
			unfinished++
		}
	}
	if got, _ := rep.summary["unfinished"].(float64); int(got) != unfinished {
		t.Fatalf("summary says %v unfinished, the lines %d", rep.summary["unfinished"], unfinished)
	}

	// The answer: a Result, an HTTP response around one, or an error.
	var uf *UnfinishedError
	isUnfinished := errors.As(run.err, &uf)
	if run.err != nil && !isUnfinished {
		t.Fatalf("the invocation failed with %T %v", run.err, run.err)
	}
	if run.status == 0 {
		if isUnfinished != (unfinished > 0) {
			t.Fatalf("error %v with %d instances unfinished", run.err, unfinished)
		}
		if run.err == nil {
			var res result.Result
			if err := json.Unmarshal(run.answer, &res); err != nil {
				t.Fatalf("the answer is not a Result: %v", err)
			}
			checkAnswerMatchesLogs(t, res, rep)
		}
	} else {
		if run.status == 503 != (unfinished > 0) && run.err == nil {
			t.Fatalf("HTTP %d with %d instances unfinished", run.status, unfinished)
		}
		if run.status >= 400 && run.status < 500 && run.calls > 0 {
			t.Fatalf("HTTP %d, yet %d calls reached ECS", run.status, run.calls)
		}
	}

	for k := range run.sent {
		l, ok := rep.instances[k]
		if !ok {
			t.Fatalf("%s was sent to ECS but is not reported", k)
		}
		switch result.Outcome(l.str("outcome")) {
		case result.Started, result.AlreadyRunning, result.DryRunPassed, result.Unfinished, result.Failed:
		default:
			t.Fatalf("%s was sent to ECS but reported %s (%s)", k, l.str("outcome"), l.str("code"))
		}
	}
	for k, n := range run.accepted {
		if n > 1 {
			t.Fatalf("%s got %d accepted starts in one invocation", k, n)
		}
	}
	checkNoSecrets(t, run.input, run.answer, []byte(errText(run.err)), run.logs)
	return rep
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkAnswerMatchesLogs(t testing.TB, res result.Result, rep reported) {
	t.Helper()
	seen := map[string]bool{}
	for _, ir := range res.InstanceResponses.InstanceResponse {
		k := ecsapi.InstanceKey(ecsapi.Scope{Region: ir.RegionID}, ir.InstanceID)
		if seen[k] {
			t.Fatalf("instance %s appears twice in the answer", k)
		}
		seen[k] = true
		l, ok := rep.instances[k]
		if !ok {
			t.Fatalf("instance %s is in the answer but not in the log", k)
		}
		if l.str("outcome") != string(ir.Outcome) {
			t.Fatalf("instance %s: %s in the answer, %s in the log", k, ir.Outcome, l.str("outcome"))
		}
		if ir.Retryable != (ir.Outcome == result.Unfinished) {
			t.Fatalf("instance %s: Retryable %v with %s", k, ir.Retryable, ir.Outcome)
		}
	}
	if len(seen) != len(rep.instances) {
		t.Fatalf("%d instances in the answer, %d in the log", len(seen), len(rep.instances))
	}
	if res.Summary.Requested != len(seen) {
		t.Fatalf("Summary.Requested %d for %d instances", res.Summary.Requested, len(seen))
	}
}

// secretPiece is the length of a piece of a secret the scrubber removes
// (DESIGN §7: any piece of 16 characters or more).
const secretPiece = 16

// secretsOf are the strings no output may hold: the whole secrets and every
// 16-character piece of the role's (DESIGN §7).
func secretPieces() []string {
	out := []string{invWebhookSecret}
	for _, s := range []string{invCreds.AccessKeySecret, invCreds.SecurityToken} {
		for i := 0; i+secretPiece <= len(s); i++ {
			out = append(out, s[i:i+secretPiece])
		}
	}
	return out
}

var allSecretPieces = secretPieces()

func checkNoSecrets(t testing.TB, input []byte, outputs ...[]byte) {
	t.Helper()
	for _, out := range outputs {
		for _, p := range allSecretPieces {
			if bytes.Contains(out, []byte(p)) && !bytes.Contains(input, []byte(p)) {
				t.Fatalf("an output holds a secret (%.6s…): %.300s", p, out)
			}
		}
		// A signed request's parameters may be named, never given a value.
		for _, marker := range []string{"Signature=", "SecurityToken=", "Signature%3D", "SecurityToken%3D"} {
			if bytes.Contains(input, []byte(marker)) {
				continue
			}
			for rest := out; ; {
				i := bytes.Index(rest, []byte(marker))
				if i < 0 {
					break
				}
				rest = rest[i+len(marker):]
				if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("[redacted]")) && !bytes.ContainsAny(rest[:1], "&\"\\ ") {
					t.Fatalf("an output gives %s a value: %.300s", marker, out)
				}
			}
		}
	}
}

// namedIDs lists what decoding found in the messages' requests, for the
// "every instance named is reported" check.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkNamedReported fails unless every ID in named (that looks like an
// instance ID) is reported: in an instance line, or in an ignored line.
func checkNamedReported(t testing.TB, named []string, rep reported) {
	t.Helper()
	if rep.truncated {
		return // the lists are bounded; the counts stand for the rest
	}
	byID := map[string]bool{}
	for k := range rep.instances {
		// The key is region/id; a malformed region may hold a "/" itself
		// (FuzzStartRequest's first finding was this test's own), an ID
		// that is checked here never does.
		byID[k[strings.LastIndex(k, "/")+1:]] = true
	}
	for _, id := range named {
		if !plan.ValidInstanceID(id) {
			continue
		}
		if !byID[id] && !rep.ignored[id] {
			t.Fatalf("instance %s was named but is not reported (reported: %v, ignored: %v)", id, sortedKeys(rep.instances), sortedKeys(rep.ignored))
		}
	}
}
