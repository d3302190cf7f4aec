package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every "§n" the code, the README or the docs cite resolves to a heading of
// docs/design.md, so that a clone can follow each citation.
func TestDesignCitationsResolve(t *testing.T) {
	root := repoRoot(t)
	design, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ §(\d+(?:\.\d+)?) `).FindAllStringSubmatch(string(design), -1) {
		headings[m[1]] = true
	}
	if len(headings) < 8 {
		t.Fatalf("docs/design.md has %d numbered headings, want §1 to §8", len(headings))
	}
	cite := regexp.MustCompile(`§ ?(\d+(?:\.\d+)*)`)
	cited := 0
	eachTextLine(t, root, false, func(rel string, n int, line string) {
		for _, m := range cite.FindAllStringSubmatch(line, -1) {
			cited++
			c := strings.TrimSuffix(m[1], ".")
			if !headings[c] {
				t.Errorf("%s:%d cites §%s, which is no heading of docs/design.md", rel, n, c)
			}
		}
	})
	if cited == 0 {
		t.Fatal("found no citation at all: is the pattern right?")
	}
}

// deployDoc is docs/deploy.md.
func deployDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// asyncInvocationType is documented both ways, so docs/deploy.md gives a
// post-deploy check of invocationType in the request-metrics log for every
// EventBridge trigger s.yaml deploys: Sync for a stream (its retry strategy
// and dead-letter queue must see a failure), Async for a default-bus rule
// (asyncInvokeConfig applies).
func TestDeployDocChecksEachEventBridgeInvocationType(t *testing.T) {
	doc := deployDoc(t)
	if !strings.Contains(doc, "invocationType") || !strings.Contains(doc, "enableRequestMetrics") {
		t.Fatal("docs/deploy.md has no check of invocationType in the request-metrics log")
	}
	n := 0
	for _, tr := range triggers(t) {
		if tr.typ != "eventbridge" {
			continue
		}
		n++
		want := "Sync"
		if str(tr.config, "eventSourceConfig", "eventSourceType") == "Default" {
			want = "Async"
		}
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(tr.name) + "` \\|.*\\| `(Sync|Async)` \\|$").FindStringSubmatch(doc)
		if row == nil || row[1] != want {
			t.Errorf("docs/deploy.md: no invocationType row for %s expecting %s (%v)", tr.name, want, row)
		}
	}
	if n == 0 {
		t.Fatal("no EventBridge trigger in s.yaml")
	}
}

// DESIGN §6 (WEBHOOK_SECRET): beside a CloudMonitor callback body only
// token and RegionId may be in the URL, and the token travels in it: the
// recipe's URL is https and holds exactly those two, and the text says why
// (https, and RegionId for an alarm outside DEFAULT_REGION_ID).
func TestCloudMonitorCallbackRecipe(t *testing.T) {
	doc := deployDoc(t)
	i := strings.Index(doc, "**A CloudMonitor alarm callback**")
	if i < 0 {
		t.Fatal("docs/deploy.md has no CloudMonitor callback recipe")
	}
	recipe := doc[i:]
	if j := strings.Index(recipe[2:], "\n**"); j > 0 {
		recipe = recipe[:j+2]
	}
	urls := regexp.MustCompile(`(?m)^(https?://\S+)$`).FindAllStringSubmatch(recipe, -1)
	if len(urls) == 0 {
		t.Fatal("the recipe shows no callback URL")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u[1], "https://") {
			t.Errorf("callback URL %s: the token would travel in clear", u[1])
		}
		_, query, _ := strings.Cut(u[1], "?")
		var keys []string
		for _, kv := range strings.Split(query, "&") {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		if strings.Join(keys, ",") != "token,RegionId" {
			t.Errorf("callback URL %s: query keys %v, want token and RegionId only (any other start-request field beside a body is a 400)", u[1], keys)
		}
	}
	for _, want := range []string{"https", "DEFAULT_REGION_ID", "in clear"} {
		if !strings.Contains(recipe, want) {
			t.Errorf("the recipe does not say %q", want)
		}
	}
	if strings.Contains(doc, "CloudMonitor alarm callback,\nwhich can set neither headers nor a body") {
		t.Error("docs/deploy.md still offers the ECS spelling in the query for a CloudMonitor callback")
	}
}

// The code and the docs say the rule, never the issue that brought it: an
// issue's number means nothing to a reader of a clone, and the rule it
// stands for must be written out where it is cited.
func TestNoIssueNumbersInCodeOrDocs(t *testing.T) {
	root := repoRoot(t)
	issue := regexp.MustCompile(`(?i)\bissues? ?#?\d+`)
	eachTextLine(t, root, true, func(rel string, n int, line string) {
		// Upstream projects' issue trackers are facts about them, cited
		// by their own numbers (the SDK's #538), and stay.
		if m := issue.FindString(line); m != "" && !strings.Contains(line, "upstream") {
			t.Errorf("%s:%d says %q: say the rule instead", rel, n, m)
		}
	})
}

// eachTextLine calls fn for every line of the repository's Go, Markdown,
// YAML and shell files (their path relative to root, the line's number from
// 1), skipping hidden folders, dist/, node_modules/ and, with skipTestdata,
// testdata/.
func eachTextLine(t *testing.T, root string, skipTestdata bool, fn func(rel string, n int, line string)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "dist" || name == "node_modules" || (skipTestdata && name == "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".yaml", ".yml", ".sh":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(b), "\n") {
			fn(rel, i+1, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
