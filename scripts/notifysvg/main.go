// Command notifysvg draws docs/notify-dingtalk.svg: the DingTalk message of
// handler/notify/testdata/dingtalk.json (what the function sends for a small
// result, DESIGN §9) as the group sees it — a robot's chat bubble with the
// title, bold marks, list items and escapes rendered, long lines wrapped.
// The picture in docs/operations.md is this file; a test keeps it current.
//
//	go run ./scripts/notifysvg            rewrite docs/notify-dingtalk.svg
//	go run ./scripts/notifysvg -o x.svg   write it elsewhere
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/start-ecs/start-ecs/internal/harness"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// Paths relative to the module root.
const (
	samplePath = "handler/notify/testdata/dingtalk.json"
	svgPath    = "docs/notify-dingtalk.svg"
)

func main() {
	out := flag.String("o", "", "where to write the SVG (default: "+svgPath+" of the module)")
	flag.Parse()
	root, err := harness.ModuleRoot()
	if err != nil {
		fail(err)
	}
	sample, err := os.ReadFile(filepath.Join(root, samplePath)) //nolint:gosec // G304: the module's own sample, a fixed path
	if err != nil {
		fail(err)
	}
	svg, err := render(sample)
	if err != nil {
		fail(err)
	}
	if *out == "" {
		*out = filepath.Join(root, svgPath)
	}
	if err := os.WriteFile(*out, svg, 0o644); err != nil { //nolint:gosec // G306: a picture for the docs
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "notifysvg:", err)
	os.Exit(1)
}

// Layout, in pixels: a 13 px sans-serif whose average character is about
// 7 px wide, wrapped at wrapAt characters.
const (
	width    = 760
	fontSize = 13
	lineH    = 19
	gapH     = 8 // a paragraph break
	wrapAt   = 92
	bubbleX  = 64
	bubbleY  = 34
	padX     = 16
	padY     = 14
)

// word is a run of text and whether it is bold.
type word struct {
	text string
	bold bool
}

// render draws the DingTalk markdown message of sample (a request body).
func render(sample []byte) ([]byte, error) {
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(sample, &body); err != nil {
		return nil, err
	}
	if body.MsgType != "markdown" || body.Markdown.Text == "" {
		return nil, fmt.Errorf("not a DingTalk markdown message")
	}
	lines := layout(body.Markdown.Text)
	textH := 0
	for _, l := range lines {
		if l == nil {
			textH += gapH
		} else {
			textH += lineH
		}
	}
	bubbleH := textH + 2*padY
	height := bubbleY + bubbleH + 20

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="-apple-system, 'PingFang SC', 'Helvetica Neue', Arial, sans-serif" font-size="%d">`+"\n", width, height, width, height, fontSize)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", esc("DingTalk: "+body.Markdown.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f2f3f5"/>`+"\n", width, height)
	// The robot's avatar and name, as DingTalk shows a custom robot.
	b.WriteString(`<circle cx="34" cy="46" r="18" fill="#3296fa"/>` + "\n")
	b.WriteString(`<text x="34" y="51" text-anchor="middle" fill="#ffffff" font-size="12" font-weight="bold">bot</text>` + "\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" fill="#8f959e" font-size="12">start-ecs robot</text>`+"\n", bubbleX)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="#ffffff" stroke="#e5e6e8"/>`+"\n", bubbleX, bubbleY, width-bubbleX-16, bubbleH)
	y := bubbleY + padY + fontSize
	for _, l := range lines {
		if l == nil {
			y += gapH
			continue
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#1f2329" xml:space="preserve">`, bubbleX+padX, y)
		for i, w := range l {
			t := w.text
			if i > 0 {
				t = " " + t
			}
			if w.bold {
				fmt.Fprintf(&b, `<tspan font-weight="bold">%s</tspan>`, esc(t))
			} else {
				b.WriteString(esc(t))
			}
		}
		b.WriteString("</text>\n")
		y += lineH
	}
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// layout turns the markdown into lines of words, wrapped at wrapAt
// characters; nil is a paragraph break (blank lines collapse into one).
func layout(md string) [][]word {
	var out [][]word
	for _, src := range strings.Split(md, "\n") {
		if strings.TrimSpace(src) == "" {
			if len(out) > 0 && out[len(out)-1] != nil {
				out = append(out, nil)
			}
			continue
		}
		indent := ""
		if rest, ok := strings.CutPrefix(src, "- "); ok {
			src, indent = "• "+rest, "   "
		}
		var words []word
		for i, seg := range strings.Split(src, "**") {
			for _, f := range strings.Fields(seg) {
				// PlainText shows escapes (\_ \[) as their marks.
				words = append(words, word{text: robotemu.PlainText(f), bold: i%2 == 1})
			}
		}
		line, n := []word{}, 0
		for _, w := range words {
			if n > 0 && n+1+len([]rune(w.text)) > wrapAt {
				out = append(out, line)
				line, n = nil, 0
				if indent != "" {
					line, n = []word{{text: indent}}, len(indent)
				}
			}
			line = append(line, w)
			n += len([]rune(w.text)) + 1
		}
		out = append(out, line)
	}
	return out
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return xmlEscaper.Replace(s) }
