package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/test.sh says what it is doing before each long step (go vet, the
// linter's first build, the race build of every package): a line on stderr
// right before the command, so that a first run does not look stuck.
func TestTestScriptAnnouncesLongSteps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, step := range []string{"go vet ", "scripts/lint.sh", "go test -race "} {
		found := false
		for i, l := range lines {
			if !strings.HasPrefix(strings.TrimSpace(l), step) {
				continue
			}
			found = true
			prev := ""
			if i > 0 {
				prev = strings.TrimSpace(lines[i-1])
			}
			if !strings.HasPrefix(prev, "echo ") || !strings.HasSuffix(prev, ">&2") {
				t.Errorf("scripts/test.sh: %q is not announced by an echo to stderr on the line before (%q)", strings.TrimSpace(l), prev)
			}
		}
		if !found {
			t.Errorf("scripts/test.sh does not run %s", step)
		}
	}
}
