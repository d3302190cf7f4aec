package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/start-ecs/start-ecs/handler/result"
)

// fleet is a result of n instances of which the first problems failed,
// spread over the outcomes that are problems.
func fleet(n, problems int) *result.Result {
	r := &result.Result{RequestID: "req-1"}
	bad := []result.Outcome{result.Failed, result.Rejected, result.Unfinished, result.Skipped}
	for i := range n {
		ir := result.InstanceResult{InstanceID: fmt.Sprintf("i-bp%016d", i), RegionID: "cn-hangzhou", Code: "200", Outcome: result.Started}
		if i < problems {
			ir.Outcome = bad[i%len(bad)]
			ir.Code = "InsufficientBalance"
			ir.Advice = result.Advice(ir.Code)
			ir.AccountID = "1234567890"
		}
		r.InstanceResponses.InstanceResponse = append(r.InstanceResponses.InstanceResponse, ir)
	}
	r.Summarize()
	return r
}

var ctx0 = Context{Function: "start-ecs", Trigger: "timer", Source: "morning", RequestID: "req-1",
	LogQuery: `requestId: "req-1"`, CalendarEnds: "2027-12-31", Mistakes: 2}

// DESIGN §9: one message per invocation: the function, trigger, source and
// request ID; the Summary's counts; at most 20 instances with a problem and
// "N more"; the SLS query; the calendar's note.
func TestMessageSaysWhatDESIGNAsks(t *testing.T) {
	m, err := NewMessage(fleet(1000, 50), ctx0)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
		for _, want := range []string{"start-ecs", "timer", "morning", "req-1", "Requested 1000", "Started 950",
			"Failed 13", "Rejected 13", "Unfinished 12", "Skipped 12", "Mistakes 2", "- 30 more\n",
			`requestId: "req-1"`, "the holiday calendar ends on 2027-12-31", "i-bp0000000000000000 cn-hangzhou account 1234567890",
			"InsufficientBalance: add funds"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
		if n := strings.Count(text, "\n- i-"); n != MaxProblems {
			t.Errorf("%s lists %d instances, want %d", name, n, MaxProblems)
		}
		if strings.Contains(text, "i-bp0000000000000020") {
			t.Errorf("%s lists the 21st problem", name)
		}
	}
	if !strings.Contains(m.Markdown, "**Failed**") || !strings.Contains(m.Mrkdwn, "*Failed*") {
		t.Errorf("outcomes not in each style's bold")
	}
	if m.Title != "start-ecs: 50 instances not started" || !m.Problem {
		t.Errorf("title %q, problem %v", m.Title, m.Problem)
	}
	var back map[string]any
	body, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"RequestId", "InstanceResponses", "Summary", "Function", "Trigger", "Source", "LogQuery", "CalendarEnds", "Mistakes"} {
		if _, ok := back[k]; !ok {
			t.Errorf("generic JSON lacks %s", k)
		}
	}
}

// DESIGN §9: at most 4,000 characters, cut safely — never inside a UTF-8
// rune — and the "N more" line kept, whatever the fields hold.
func TestMessageBoundedAndValidUTF8(t *testing.T) {
	long := strings.Repeat("库存不足*_<&>", 200) // multi-byte runes and characters each style escapes
	r := fleet(300, 300)
	for i := range r.InstanceResponses.InstanceResponse {
		ir := &r.InstanceResponses.InstanceResponse[i]
		ir.Advice, ir.Code, ir.AccountID = long, long, long
	}
	c := Context{Function: long, Trigger: long, Source: long + "\nline", RequestID: long, LogQuery: long, CalendarEnds: long, Mistakes: 1}
	m, err := NewMessage(r, c)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
		if len(text) > MaxChars || !utf8.ValidString(text) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v", name, len(text), utf8.ValidString(text))
		}
		shown := strings.Count(text, "\n- i-")
		if shown == 0 || shown > MaxProblems {
			t.Errorf("%s shows %d problems", name, shown)
		}
		if want := fmt.Sprintf("- %d more\n", 300-shown); !strings.Contains(text, want) {
			t.Errorf("%s lacks %q", name, want)
		}
		if strings.Contains(text, "\nline") {
			t.Errorf("%s: a field's newline starts a line of its own", name)
		}
	}
}

func TestCutUTF8NeverSplitsARune(t *testing.T) {
	s := "a€b" // € is 3 bytes
	for n := range len(s) + 2 {
		if got := cutUTF8(s, n); !utf8.ValidString(got) || len(got) > n {
			t.Errorf("cutUTF8(%q, %d) = %q", s, n, got)
		}
	}
}

// DESIGN §9 NOTIFY_ON: problems = any Failed, Rejected, Unfinished or
// Skipped, an operator mistake, a configuration error; Rejected only for
// InvalidSchedule only in the tick whose window holds 00:00 UTC.
func TestShouldNotify(t *testing.T) {
	ok := fleet(3, 0)
	one := func(o result.Outcome, code string) *result.Result {
		r := fleet(2, 0)
		r.InstanceResponses.InstanceResponse[1].Outcome = o
		r.InstanceResponses.InstanceResponse[1].Code = code
		r.Summarize()
		return r
	}
	unresolved := fleet(1, 0)
	unresolved.Unresolved = []string{"tag env=prod"}
	// A request refused whole (TooManyInstances): nothing of it was sent.
	refused := fleet(1, 0)
	refused.Ignored = []result.IgnoredEvent{{Source: "timer:morning", Code: "TooManyInstances", Reason: "over MAX_INSTANCES"}}
	refused.Summarize()
	// Past MAX_INSTANCES, a tick's further bad schedule tags are one
	// Ignored entry with InvalidSchedule: told daily like the instances.
	badPast := fleet(1, 0)
	badPast.Ignored = []result.IgnoredEvent{{Source: "timer:tick", Code: CodeInvalidSchedule, Reason: "12 more instances carry an invalid schedule"}}
	badPast.Summarize()
	news := fleet(1, 0)
	news.Ignored = []result.IgnoredEvent{{Source: "cms-alarm:x", Reason: "alarm state OK"}}
	news.Summarize()
	cases := []struct {
		name                string
		on                  On
		r                   *result.Result
		mistakes            int
		configErr, midnight bool
		want                bool
	}{
		{"all well", OnProblems, ok, 0, false, false, false},
		{"always", OnAlways, ok, 0, false, false, true},
		{"never, even a failure", OnNever, one(result.Failed, "X"), 1, true, true, false},
		{"failed", OnProblems, one(result.Failed, "X"), 0, false, false, true},
		{"rejected", OnProblems, one(result.Rejected, result.CodeNotAllowed), 0, false, false, true},
		{"unfinished", OnProblems, one(result.Unfinished, "Throttling"), 0, false, false, true},
		{"skipped", OnProblems, one(result.Skipped, result.CodeSequenceStopped), 0, false, false, true},
		{"already running", OnProblems, one(result.AlreadyRunning, "200"), 0, false, false, false},
		{"dry run", OnProblems, one(result.DryRunPassed, "200"), 0, false, false, false},
		{"mistake", OnProblems, ok, 1, false, false, true},
		{"configuration error", OnProblems, ok, 0, true, false, true},
		{"tag selection unresolved", OnProblems, unresolved, 0, false, false, true},
		{"a request refused, no instance of its own", OnProblems, refused, 0, false, false, true},
		{"news ignored", OnProblems, news, 0, false, false, false},
		{"bad schedule, not the midnight tick", OnProblems, one(result.Rejected, CodeInvalidSchedule), 0, false, false, false},
		{"bad schedule, the midnight tick", OnProblems, one(result.Rejected, CodeInvalidSchedule), 0, false, true, true},
		{"bad schedules past MAX_INSTANCES, not the midnight tick", OnProblems, badPast, 0, false, false, false},
		{"bad schedules past MAX_INSTANCES, the midnight tick", OnProblems, badPast, 0, false, true, true},
	}
	for _, tc := range cases {
		if got := ShouldNotify(tc.on, tc.r, tc.mistakes, tc.configErr, tc.midnight); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The generic body is the same JSON whether the message encodes the Result
// itself or is handed the answer's encoding.
func TestGenericBodySameWithResultJSON(t *testing.T) {
	r := fleet(30, 5)
	for _, c := range []Context{ctx0, {}} {
		a, err := NewMessage(r, c)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewMessage(r, c)
		enc, _ := json.Marshal(r)
		b.UseResultJSON(enc)
		ja, _ := a.JSON()
		jb, err := b.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var va, vb map[string]any
		if json.Unmarshal(ja, &va) != nil || json.Unmarshal(jb, &vb) != nil {
			t.Fatalf("not JSON:\n%s\n%s", ja, jb)
		}
		if fmt.Sprint(va) != fmt.Sprint(vb) {
			t.Errorf("bodies differ:\n%s\n%s", ja, jb)
		}
	}
	// An empty object still splices into valid JSON.
	m, _ := NewMessage(r, ctx0)
	m.UseResultJSON([]byte("{}"))
	if j, _ := m.JSON(); !json.Valid(j) {
		t.Errorf("invalid %s", j)
	}
}

// DESIGN §9, operator mistakes: a typo must reach a person the same day. A
// mistake that names no instance (an Ignored entry) is listed with its
// source and reason, an instance refused by one with its message, each
// marked a mistake; Ignored entries that are news (an alarm back to OK)
// are not problems and are not listed.
func TestMessageListsMistakesWithWhatToMend(t *testing.T) {
	r := &result.Result{RequestID: "req-1"}
	r.InstanceResponses.InstanceResponse = []result.InstanceResult{
		{InstanceID: "i-bp67acfmxazb4p0001", RegionID: "cn-hangzhou", Outcome: result.Rejected, Code: "InvalidParameter",
			Message: "invalid start request: dryRun: not a boolean", Mistake: true},
	}
	r.Ignored = []result.IgnoredEvent{
		{Source: "timer:morning", Code: "InvalidParameter", Reason: "invalid start request: instanceID: unknown field: did you mean instanceIds?", Mistake: true},
		{Source: "cms-alarm:x", Reason: "alarm state OK"},
	}
	r.Summarize()
	m, err := NewMessage(r, Context{Function: "start-ecs", RequestID: "req-1", Mistakes: r.Summary.Mistakes})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
		for _, want := range []string{"Mistakes 2", "mistake", "did you mean instanceIds?", "timer:morning", "dryRun: not a boolean"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
		if strings.Contains(text, "alarm state OK") {
			t.Errorf("%s lists news that is no problem:\n%s", name, text)
		}
	}
	if !m.Problem {
		t.Error("a message of mistakes is not a problem")
	}
}

// DESIGN §9: instances that did not start while everything looked fine
// must reach a person. A request refused whole by an Ignored entry with a
// Code (TooManyInstances: nothing of it was sent) names no instance of its
// own: it is listed with its source, code and reason, titled as refused,
// and the message is a problem, not "all well".
func TestMessageListsRefusedRequests(t *testing.T) {
	tooMany := fleet(2, 0)
	tooMany.Ignored = []result.IgnoredEvent{{Source: "timer:morning", Code: "TooManyInstances",
		Reason: "TooManyInstances: the request names 1500 instances in cn-hangzhou, over MAX_INSTANCES (1000); nothing of it was sent"}}
	tooMany.Summarize()
	// A tag selection whose lookup did not finish: the invocation is
	// unfinished, though no instance of its own is.
	unresolved := fleet(0, 0)
	unresolved.Ignored = []result.IgnoredEvent{{Source: "timer:morning", Code: "Throttling",
		Reason: "looking up the tags env=prod in cn-hangzhou did not finish: over MAX_INSTANCES; nothing of it was sent, safe to retry"}}
	unresolved.Unresolved = []string{"the tags env=prod in cn-hangzhou (Throttling)"}
	unresolved.Summarize()
	for name, r := range map[string]*result.Result{"TooManyInstances": tooMany, "Throttling": unresolved} {
		m, err := NewMessage(r, Context{Function: "start-ecs", RequestID: "req-1"})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Problem || strings.Contains(m.Title, "all well") || !strings.Contains(m.Title, "1 request not carried out") {
			t.Errorf("%s: problem %v, title %q", name, m.Problem, m.Title)
		}
		for style, text := range map[string]string{"markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
			for _, want := range []string{"timer:morning", name, "over MAX\\_INSTANCES", "not carried out"} {
				if style == "mrkdwn" {
					want = strings.ReplaceAll(want, "\\", "")
				}
				if !strings.Contains(text, want) {
					t.Errorf("%s: %s lacks %q:\n%s", name, style, want, text)
				}
			}
		}
	}
}

// DESIGN §6, DRY_RUN_ONLY: a dry run's result says so, and so does its
// message: a rehearsal's "1 instance not started" must not read as the
// fleet's. An invocation that was not all dry run does not say it.
func TestMessageSaysADryRun(t *testing.T) {
	r := fleet(3, 1)
	for _, dry := range []bool{true, false} {
		r.DryRun = dry
		m, err := NewMessage(r, Context{Function: "start-ecs", RequestID: "req-1"})
		if err != nil {
			t.Fatal(err)
		}
		for style, text := range map[string]string{"title": m.Title, "markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
			if got := strings.Contains(text, "(dry run)"); got != dry {
				t.Errorf("dry run %v: the %s says it %v:\n%s", dry, style, got, text)
			}
		}
	}
}

// DESIGN §9: a configuration error is a problem for NOTIFY_ON, and the
// message says what it is (every invocation fails with it).
func TestMessageSaysTheConfigurationError(t *testing.T) {
	r := &result.Result{RequestID: "req-1"}
	c := Context{Function: "start-ecs", RequestID: "req-1", ConfigError: "invalid configuration: MAX_INSTANCES: \"many\" is not a whole number of at least 1"}
	if !ShouldNotify(OnProblems, r, 0, true, false) {
		t.Fatal("a configuration error is not told under problems")
	}
	m, err := NewMessage(r, c)
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != "start-ecs: configuration error" || !m.Problem || !strings.Contains(m.Markdown, "MAX\\_INSTANCES") ||
		!strings.Contains(m.Mrkdwn, "MAX_INSTANCES") {
		t.Errorf("title %q, problem %v:\n%s", m.Title, m.Problem, m.Markdown)
	}
}

// DESIGN §9 (a message in the robot's markdown): a value cut to length is
// cut before it is escaped, never inside an escape — "&l…" or a "\"
// parted from the mark it escapes is broken markup in every robot. Values
// full of <, >, & and markdown marks, cut at every offset, for each kind
// of robot (DingTalk, WeCom and Lark read Markdown, Slack Mrkdwn).
func TestValueCutNeverInsideAnEscape(t *testing.T) {
	marks := "<>&*_`[]"
	// Markdown leaves & as it is and escapes marks with "\\"; Slack escapes
	// &, < and > alone, so a lone "&" before the cut is broken there.
	broken := map[Kind][]string{}
	for _, e := range []string{"&lt;", "&gt;", "&amp;"} {
		for i := 1; i < len(e); i++ {
			broken[Slack] = append(broken[Slack], e[:i]+"…")
			if i > 1 {
				broken[DingTalk] = append(broken[DingTalk], e[:i]+"…")
			}
		}
	}
	broken[DingTalk] = append(broken[DingTalk], "\\…")
	broken[WeCom], broken[Lark] = broken[DingTalk], broken[DingTalk]
	for off := range len(marks) {
		v := strings.Repeat("a", off) + strings.Repeat(marks, 60)
		// The rule itself, at every length: what is kept is the escape of
		// a prefix of the value.
		for _, st := range []style{markdownStyle, slackStyle} {
			for n := 4; n < 2*maxField; n++ {
				got := st.value(v, n)
				kept := strings.TrimSuffix(got, "…")
				if len(got) > n || !strings.HasPrefix(st.escape(v), kept) {
					t.Fatalf("value(%q, %d) = %q: over the bound or not the escape of a prefix", v[:20], n, got)
				}
				ok := false
				for i := range len(v) + 1 {
					if st.escape(v[:i]) == kept {
						ok = true
						break
					}
				}
				if !ok {
					t.Fatalf("value(…, %d) = %q ends inside an escape", n, got)
				}
			}
		}
		r := fleet(3, 3)
		for i := range r.InstanceResponses.InstanceResponse {
			ir := &r.InstanceResponses.InstanceResponse[i]
			ir.Advice, ir.Code, ir.AccountID, ir.Message = v, v, v, v
		}
		c := Context{Function: v, Trigger: v, Source: v, RequestID: v, LogQuery: v, CalendarEnds: v, ConfigError: v}
		m, err := NewMessage(r, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []Kind{DingTalk, WeCom, Lark, Slack} {
			_, body, err := Target{Kind: kind, url: "https://robot.example/hook"}.payload(m, time.Unix(1700000000, 0))
			if err != nil {
				t.Fatal(err)
			}
			var decoded any
			if err := json.Unmarshal(body, &decoded); err != nil {
				t.Fatal(err)
			}
			text := longestString(decoded)
			if !strings.Contains(text, "…") {
				t.Fatalf("%s: nothing was cut:\n%s", kind, text)
			}
			for _, b := range broken[kind] {
				if strings.Contains(text, b) {
					t.Errorf("%s, offset %d: a value cut inside an escape (%q):\n%s", kind, off, b, text)
				}
			}
		}
	}
}

// longestString is the longest string in a decoded JSON value: a robot's
// message text.
func longestString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		best := ""
		for _, e := range v {
			if s := longestString(e); len(s) > len(best) {
				best = s
			}
		}
		return best
	case map[string]any:
		best := ""
		for _, e := range v {
			if s := longestString(e); len(s) > len(best) {
				best = s
			}
		}
		return best
	}
	return ""
}

// DESIGN §9: Skipped instances' reason is said once per reason, on the first
// line that has it, the 20-line and MaxChars bounds kept however long the
// reason and however many share it.
func TestSkippedReasonSaidOncePerReason(t *testing.T) {
	reasons := []string{"not sent: sequence[0] stopped the sequence: i-a in cn-hangzhou is Failed (InvalidInstanceId.NotFound) " + strings.Repeat("<&_*", 200),
		"not sent: sequence[1] stopped the sequence: i-b in cn-beijing is Unfinished (Throttling)"}
	r := &result.Result{}
	for i := range 500 {
		r.InstanceResponses.InstanceResponse = append(r.InstanceResponses.InstanceResponse, result.InstanceResult{
			InstanceID: fmt.Sprintf("i-bp%016d", i), RegionID: "cn-hangzhou", Outcome: result.Skipped,
			Code: "SequenceStopped", Message: reasons[i%2]})
	}
	r.Summarize()
	m, err := NewMessage(r, ctx0)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"markdown": m.Markdown, "mrkdwn": m.Mrkdwn} {
		st := markdownStyle
		if name == "mrkdwn" {
			st = slackStyle
		}
		if len(text) > MaxChars || strings.Count(text, "\n- i-") != MaxProblems || !strings.Contains(text, "- 480 more\n") {
			t.Errorf("%s: %d bytes, %d instance lines:\n%s", name, len(text), strings.Count(text, "\n- i-"), text)
		}
		for _, why := range []string{"sequence[0] stopped the sequence", "sequence[1] stopped the sequence"} {
			if n := strings.Count(text, st.escape(why)); n != 1 {
				t.Errorf("%s: %q said %d times, want once", name, why, n)
			}
		}
	}
}
