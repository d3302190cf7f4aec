package notify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/start-ecs/start-ecs/handler/result"
)

// Limits of one message (DESIGN §9).
const (
	// MaxChars bounds a message's text, counted in bytes (so in characters
	// too): WeCom's markdown takes 4,096 bytes.
	MaxChars = 4000
	// MaxProblems is how many instances with a problem a message lists.
	MaxProblems = 20
	// maxField bounds one value quoted in a message.
	maxField = 160
)

// CodeInvalidSchedule is the Code of an instance Rejected for its schedule
// tag (DESIGN §3.2).
const CodeInvalidSchedule = "InvalidSchedule"

// Context is what a message says beside the result.
type Context struct {
	Function  string `json:"Function,omitempty"`
	Trigger   string `json:"Trigger,omitempty"`
	Source    string `json:"Source,omitempty"`
	RequestID string `json:"-"` // the Result's RequestId says it
	// LogQuery is the SLS query that finds the invocation's lines.
	LogQuery string `json:"LogQuery,omitempty"`
	// CalendarEnds is SKIP_DATES's last date when it holds none more than
	// 30 days ahead, as SKIP_DATES writes it; empty otherwise.
	CalendarEnds string `json:"CalendarEnds,omitempty"`
	// Mistakes counts the operator mistakes of the invocation.
	Mistakes int `json:"Mistakes"`
	// ConfigError is the configuration error every invocation fails with
	// (DESIGN §6), "" when the configuration is valid.
	ConfigError string `json:"ConfigError,omitempty"`
}

// ShouldNotify says whether NOTIFY_ON asks for a message. With problems, a
// message goes out for any instance Failed, Rejected, Unfinished or Skipped,
// instances refused without an entry of their own (an Ignored entry with a
// Code: TooManyInstances, a role not allowed to look up a selection — none
// of them was sent), an operator mistake, or a configuration error; an instance Rejected only
// for InvalidSchedule is a problem only in the tick whose window holds
// 00:00 UTC (midnightTick), so that a bad tag is told once a day.
func ShouldNotify(on On, r *result.Result, mistakes int, configErr, midnightTick bool) bool {
	switch on {
	case OnNever:
		return false
	case OnAlways:
		return true
	}
	if mistakes > 0 || configErr || r.Unfinished() {
		return true
	}
	for _, ig := range r.Ignored {
		// A request refused whole, nothing of it sent; bad schedule tags
		// counted past MAX_INSTANCES are told in the midnight tick only,
		// as the instances they stand for.
		if ig.Code != "" && (midnightTick || ig.Code != CodeInvalidSchedule) {
			return true
		}
	}
	for _, ir := range r.InstanceResponses.InstanceResponse {
		if isProblem(ir) && (midnightTick || !scheduleOnly(ir)) {
			return true
		}
	}
	return false
}

func isProblem(ir result.InstanceResult) bool {
	switch ir.Outcome {
	case result.Failed, result.Rejected, result.Unfinished, result.Skipped:
		return true
	}
	return false
}

func scheduleOnly(ir result.InstanceResult) bool {
	return ir.Outcome == result.Rejected && ir.Code == CodeInvalidSchedule
}

// Message is one invocation's notification, built once and rendered for
// each kind of target.
type Message struct {
	// Title is the message's one-line headline.
	Title string
	// Markdown is the text for DingTalk, WeCom and the Lark card.
	Markdown string
	// Mrkdwn is the text for Slack.
	Mrkdwn  string
	result  *result.Result
	context Context
	// json is the generic body, made once and only for a generic target
	// (encoding a 1,000-instance Result costs more than the rest).
	resultJSON []byte
	jsonOnce   sync.Once
	json       []byte
	jsonErr    error
	// Problem says whether anything went wrong (a red card, not green).
	Problem bool
}

// JSON is the generic body: the Result with the context's fields. r must
// not change until the message is sent.
func (m *Message) JSON() ([]byte, error) {
	m.jsonOnce.Do(func() {
		if m.resultJSON != nil {
			m.json, m.jsonErr = spliceContext(m.context, m.resultJSON)
			return
		}
		m.json, m.jsonErr = json.Marshal(struct {
			*result.Result
			Context
		}{m.result, m.context})
	})
	return m.json, m.jsonErr
}

// UseResultJSON hands the message the Result as the answer already encoded
// it (a JSON object), so that a generic body costs a copy, not a second
// encoding of up to MAX_INSTANCES entries. Call it before Send.
func (m *Message) UseResultJSON(b []byte) {
	if len(b) > 1 && b[0] == '{' {
		m.resultJSON = b
	}
}

// spliceContext writes the context's fields at the head of the encoded
// Result object.
func spliceContext(c Context, resultJSON []byte) ([]byte, error) {
	head, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(resultJSON))
	out = append(out, head[:len(head)-1]...)
	if rest := bytes.TrimSpace(resultJSON[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, resultJSON[1:]...), nil
}

// NewMessage builds the message of an invocation: the function, trigger,
// source and request ID; the Summary's counts and the mistakes; at most
// MaxProblems instances with a problem and "N more"; the calendar's note;
// the SLS query. Each text is at most MaxChars bytes, cut between lines
// (never inside a UTF-8 sequence) and always keeping the "N more" line.
func NewMessage(r *result.Result, c Context) (*Message, error) {
	title := titleOf(r, c)
	s := r.Summary
	return &Message{
		Problem:  s.Failed+s.Rejected+s.Unfinished+s.Skipped+c.Mistakes > 0 || r.Unfinished() || r.RefusedIgnored() || c.ConfigError != "",
		Title:    title,
		Markdown: render(r, c, title, markdownStyle),
		Mrkdwn:   render(r, c, title, slackStyle),
		result:   r,
		context:  c,
	}, nil
}

func titleOf(r *result.Result, c Context) string {
	s := r.Summary
	n := s.Failed + s.Rejected + s.Unfinished + s.Skipped
	fn := clip(c.Function)
	if fn == "" {
		fn = "start-ecs"
	}
	if r.DryRun {
		// A rehearsal's failures are not the fleet's: the title says so, as
		// the result does (DESIGN §6, DRY_RUN_ONLY).
		fn += " (dry run)"
	}
	switch {
	case c.ConfigError != "":
		return fn + ": configuration error"
	case n == 0 && c.Mistakes == 0 && r.RefusedIgnored():
		return fn + ": " + plural(refusedEntries(r), "request") + " not carried out"
	case n == 0 && c.Mistakes == 0:
		return fn + ": all well"
	case n == 0:
		return fn + ": " + plural(c.Mistakes, "mistake")
	}
	return fn + ": " + plural(n, "instance") + " not started"
}

// refusedEntries counts the Ignored entries that refused instances or a
// request (a Code) and are not operator mistakes.
func refusedEntries(r *result.Result) int {
	n := 0
	for _, ig := range r.Ignored {
		if ig.Code != "" && !ig.Mistake {
			n++
		}
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// style is how one family of robots marks text up.
type style struct {
	bold   string
	escape func(string) string
	// para separates paragraphs (DingTalk's markdown needs a blank line).
	para string
}

var (
	markdownStyle = style{bold: "**", escape: escapeMarkdown, para: "\n\n"}
	slackStyle    = style{bold: "*", escape: escapeSlack, para: "\n"}
)

var markdownEscaper = strings.NewReplacer("*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;")

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// Slack's mrkdwn asks for &, < and > to be escaped, nothing else.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeSlack(s string) string { return slackEscaper.Replace(s) }

// render writes the text of one style within MaxChars.
func render(r *result.Result, c Context, title string, st style) string {
	head := header(r, c, title, st)
	foot := footer(c, st)
	problems, total := problemLines(r, st)
	budget := MaxChars - len(head) - len(foot)
	var b strings.Builder
	b.Grow(MaxChars)
	b.WriteString(head)
	shown := 0
	for _, line := range problems {
		more := total - shown - 1
		if len(line)+len(moreLine(more)) > budget {
			break
		}
		b.WriteString(line)
		budget -= len(line)
		shown++
	}
	if rest := total - shown; rest > 0 {
		b.WriteString(moreLine(rest))
	}
	b.WriteString(foot)
	return cutUTF8(b.String(), MaxChars)
}

func moreLine(n int) string {
	if n <= 0 {
		return ""
	}
	return "- " + strconv.Itoa(n) + " more\n"
}

func header(r *result.Result, c Context, title string, st style) string {
	var b strings.Builder
	b.WriteString(st.bold + st.value(title, maxField) + st.bold + st.para)
	var fields []string
	for _, f := range [][2]string{{"function", c.Function}, {"trigger", c.Trigger}, {"source", c.Source}, {"request", c.RequestID}} {
		if v := st.value(f[1], maxField); v != "" {
			fields = append(fields, f[0]+" "+v)
		}
	}
	b.WriteString(strings.Join(fields, " · ") + st.para)
	if v := st.value(c.ConfigError, 2*maxField); v != "" {
		b.WriteString("configuration error: " + v + st.para)
	}
	s := r.Summary
	counts := []struct {
		name string
		n    int
	}{
		{"Requested", s.Requested}, {"Started", s.Started}, {"AlreadyRunning", s.AlreadyRunning},
		{"DryRunPassed", s.DryRunPassed}, {"Rejected", s.Rejected}, {"Failed", s.Failed},
		{"Unfinished", s.Unfinished}, {"Skipped", s.Skipped}, {"Ignored", s.Ignored},
		{"Mistakes", c.Mistakes},
	}
	for i, n := range counts {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(n.name + " " + strconv.Itoa(n.n))
	}
	b.WriteString(st.para)
	return b.String()
}

func footer(c Context, st style) string {
	var b strings.Builder
	if v := st.value(c.CalendarEnds, maxField); v != "" {
		b.WriteString(st.para + "the holiday calendar ends on " + v)
	}
	if q := st.value(c.LogQuery, 400); q != "" {
		b.WriteString(st.para + "SLS: " + q)
	}
	return b.String()
}

// problemLines lists the first MaxProblems instances with a problem, then
// operator mistakes and refusals that name no instance of their own (an
// Ignored entry that is a mistake — a typo names no instance, DESIGN §9 —
// or has a Code: TooManyInstances, nothing of it sent), one line each, and
// counts them all. An instance's
// line ends with its advice, or its message when it has none (a refusal
// says there what to mend); a mistake's with its reason. Skipped instances
// share their reason (which group stopped the sequence, and its first
// failure): the first line of each reason says it, the others not again,
// so a message says why without repeating it 20 times.
func problemLines(r *result.Result, st style) (lines []string, total int) {
	told := map[string]bool{} // the Skipped reasons said already
	for _, ir := range r.InstanceResponses.InstanceResponse {
		if !isProblem(ir) {
			continue
		}
		if total++; total > MaxProblems {
			continue
		}
		var b strings.Builder
		b.WriteString("- " + st.value(ir.InstanceID, maxField) + " " + st.value(ir.RegionID, maxField))
		if ir.AccountID != "" {
			b.WriteString(" account " + st.value(ir.AccountID, maxField))
		}
		b.WriteString(" " + st.bold + st.value(string(ir.Outcome), maxField) + st.bold)
		if ir.Mistake {
			b.WriteString(" " + st.bold + "mistake" + st.bold)
		}
		if ir.Code != "" {
			b.WriteString(" " + st.value(ir.Code, maxField))
		}
		switch {
		case ir.Advice != "":
			b.WriteString(": " + st.value(ir.Advice, 2*maxField))
		case ir.Message != "" && ir.Outcome != result.Skipped:
			b.WriteString(": " + st.value(ir.Message, 2*maxField))
		case ir.Message != "" && !told[ir.Message]:
			told[ir.Message] = true
			b.WriteString(": " + st.value(ir.Message, 2*maxField))
		}
		b.WriteString("\n")
		lines = append(lines, b.String())
	}
	for _, ig := range r.Ignored {
		if !ig.Mistake && ig.Code == "" {
			continue
		}
		if total++; total > MaxProblems {
			continue
		}
		what := "not carried out"
		if ig.Mistake {
			what = "mistake"
		}
		line := "- " + st.value(ig.Source, maxField) + " " + st.bold + what + st.bold
		if ig.Code != "" {
			line += " " + st.value(ig.Code, maxField)
		}
		lines = append(lines, line+": "+st.value(ig.Reason, 2*maxField)+"\n")
	}
	return lines, total
}

func clip(s string) string { return clipN(s, maxField) }

// value is v escaped for the style, on one line, within n bytes. A value
// too long is cut before it is escaped, a whole character at a time, so the
// cut never falls inside an escape: "&l…", or a "\" parted from what it
// escapes, would be broken markup (DESIGN §9).
func (st style) value(v string, n int) string {
	v = oneLine(v)
	if e := st.escape(v); len(e) <= n {
		return e
	}
	limit := n - len("…")
	var b strings.Builder
	b.Grow(n)
	for _, r := range v {
		e := st.escape(string(r))
		if b.Len()+len(e) > limit {
			break
		}
		b.WriteString(e)
	}
	return b.String() + "…"
}

// oneLine is s with its control characters turned into spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// clipN makes one line of s: control characters become spaces, and it is
// cut to n bytes at a rune boundary.
func clipN(s string, n int) string {
	s = oneLine(s)
	if len(s) <= n {
		return s
	}
	return cutUTF8(s, n-len("…")) + "…"
}

// cutUTF8 cuts s to at most n bytes, never inside a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
