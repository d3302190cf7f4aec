package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/handler/result"
)

// README.md's table of outcomes has one row for each Outcome the function
// reports, and none calls a built one reserved or not built (its Skipped row
// said "reserved for ordered sequence groups (not built yet)" long after
// sequences were built).
func TestREADMEOutcomesAreTheBuiltOnes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if name, rest, ok := strings.Cut(line, "` |"); ok && strings.HasPrefix(name, "| `") {
			rows[strings.TrimPrefix(name, "| `")] = rest
		}
	}
	for _, o := range []result.Outcome{result.Started, result.AlreadyRunning, result.DryRunPassed, result.Rejected,
		result.Failed, result.Unfinished, result.Skipped} {
		row, ok := rows[string(o)]
		switch {
		case !ok:
			t.Errorf("README.md's outcome table has no row for %s", o)
		case strings.Contains(row, "not built") || strings.Contains(row, "reserved"):
			t.Errorf("README.md says of %s, which the function reports: %s", o, row)
		}
	}
}
