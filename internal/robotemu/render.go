package robotemu

import (
	"regexp"
	"sort"
	"strings"
)

var (
	mdLink  = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)
	mdTag   = regexp.MustCompile(`</?(font|at)[^>]*>`)
	mdEmph  = regexp.MustCompile(`\*\*|__|~~`)
	mdCode  = regexp.MustCompile("`+")
	mdHead  = regexp.MustCompile(`^#{1,6}\s+`)
	mdList  = regexp.MustCompile(`^(\s*)[-*+]\s+`)
	mdQuote = regexp.MustCompile(`^>\s?`)
	mdRule  = regexp.MustCompile(`^\s*(---+|\*\*\*+)\s*$`)
	// mdEscape is a backslash before markdown punctuation: the mark shows,
	// the backslash does not.
	mdEscape = regexp.MustCompile("\\\\([*_`\\[\\]\\\\#>~-])")
)

// PlainText renders the markdown the robots take (DingTalk's subset: titles,
// bold, links, quotes, lists; WeCom's <font> tags; Slack's and Lark's
// lark_md) as a person reads it in the group: marks dropped, a link as its
// text followed by the address in angle brackets, a list item as "• ", a
// quote as "│ ", a rule as a line.
func PlainText(md string) string {
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	for i, l := range lines {
		switch {
		case mdRule.MatchString(l):
			l = strings.Repeat("─", 20)
		case mdHead.MatchString(l):
			l = mdHead.ReplaceAllString(l, "")
		case mdQuote.MatchString(l):
			l = "│ " + mdQuote.ReplaceAllString(l, "")
		case mdList.MatchString(l):
			l = mdList.ReplaceAllString(l, "$1• ")
		}
		// Escaped marks are set aside first, so that the marks below do
		// not take them, and shown as themselves at the end.
		l = mdEscape.ReplaceAllStringFunc(l, func(e string) string { return escapedMark[e[1]] })
		l = mdLink.ReplaceAllString(l, "$1 <$2>")
		l = mdTag.ReplaceAllString(l, "")
		l = mdEmph.ReplaceAllString(l, "")
		l = mdCode.ReplaceAllString(l, "")
		lines[i] = unescapedMarks.Replace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// escapedMark holds an escaped mark while the marks are rendered: a
// private-use rune per mark, which no message carries; unescapedMarks
// shows each as its mark.
var escapedMark, unescapedMarks = escapeTables("*_`[]\\#>~-")

func escapeTables(marks string) (map[byte]string, *strings.Replacer) {
	held := map[byte]string{}
	var pairs []string
	for i := range len(marks) {
		r := string(rune(0xE000 + i))
		held[marks[i]] = r
		pairs = append(pairs, r, marks[i:i+1])
	}
	return held, strings.NewReplacer(pairs...)
}

// Render is a received message as a person sees it in the group: the title
// underlined, then the text, as plain text (see PlainText). It is what the
// local runner prints for a robot's message.
func Render(m Message) string {
	var b strings.Builder
	b.WriteString("[" + string(m.Kind) + "]")
	if m.Title != "" {
		b.WriteString(" " + m.Title + "\n")
		b.WriteString(strings.Repeat("═", min(len([]rune(m.Title))+len(m.Kind)+3, 60)))
	}
	b.WriteString("\n" + m.Text + "\n")
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
