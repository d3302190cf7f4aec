package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every "§n" the code, the README or the docs cite resolves to a heading of
// docs/design.md, so that a clone can follow each citation (issue 7).
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
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "dist" || name == "node_modules") {
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
			for _, m := range cite.FindAllStringSubmatch(line, -1) {
				cited++
				n := strings.TrimSuffix(m[1], ".")
				if !headings[n] {
					t.Errorf("%s:%d cites §%s, which is no heading of docs/design.md", rel, i+1, n)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Fatal("found no citation at all: is the pattern right?")
	}
}
