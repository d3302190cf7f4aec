package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README is a front door (docs/design.md says the rules, the README
// links to them): at most 12 KB, and it opens with the two commands — the
// local run on the embedded emulators, and the whole test suite, which is
// what .ci/run calls.
func TestREADMEIsAFrontDoor(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(readme) > 12*1024 {
		t.Errorf("README.md has %d bytes, over 12 KB: link to docs/ instead of restating it", len(readme))
	}
	_, rest, ok := strings.Cut(string(readme), "```bash\n")
	block, _, closed := strings.Cut(rest, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if !ok || !closed || len(lines) != 2 || !strings.HasPrefix(lines[0], "go run ./scripts/local ") || !strings.HasPrefix(lines[1], "scripts/test.sh") {
		t.Fatalf("README.md does not open with the local run and the test suite:\n%s", block)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "scripts/test.sh") {
		t.Errorf(".ci/run does not call the README's test command scripts/test.sh:\n%s", ci)
	}
}
