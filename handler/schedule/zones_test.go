package schedule

import (
	"archive/zip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goZoneNames lists the Area/Location names of Go's lib/time/zoneinfo.zip,
// the file tzdb embeds.
func goZoneNames(t *testing.T) []string {
	t.Helper()
	goroot, err := exec.CommandContext(t.Context(), "go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("Go's zoneinfo.zip: %v", err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		area, _, ok := strings.Cut(f.Name, "/")
		if ok && !strings.HasSuffix(f.Name, "/") && area != "posix" && area != "right" {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}
