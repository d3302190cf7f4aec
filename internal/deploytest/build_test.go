package deploytest

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/build"
)

// runZipdir packages dir with the project's zipper, as scripts/build.sh does.
func runZipdir(t *testing.T, dir, out string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "run", "./scripts/zipdir", "-o", out, dir)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zipdir: %v\n%s", err, b)
	}
}

func writeFile(t *testing.T, path string, data string, mode fs.FileMode, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask must not decide
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// The zipper's output depends on file names, contents and execute bits only:
// not on timestamps, the umask's group bits or the order files were created in.
func TestZipperIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(a, "main"), "binary", 0o755, time.Unix(1e9, 0))
	writeFile(t, filepath.Join(a, "conf", "x.json"), "{}", 0o644, time.Unix(1e9, 0))
	writeFile(t, filepath.Join(b, "conf", "x.json"), "{}", 0o664, time.Now())
	writeFile(t, filepath.Join(b, "main"), "binary", 0o775, time.Now())

	out := t.TempDir()
	za, zb := filepath.Join(out, "a.zip"), filepath.Join(out, "b.zip")
	runZipdir(t, a, za)
	runZipdir(t, b, zb)
	ba, _ := os.ReadFile(za)
	bb, _ := os.ReadFile(zb)
	if !bytes.Equal(ba, bb) {
		t.Fatalf("same files, different zips (%d and %d bytes)", len(ba), len(bb))
	}
	zr, err := zip.NewReader(bytes.NewReader(ba), int64(len(ba)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode fs.FileMode
	}{{"conf/x.json", 0o644}, {"main", 0o755}}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		if f.Name != want[i].name || f.Mode().Perm() != want[i].mode {
			t.Errorf("entry %d: %s %v, want %s %v", i, f.Name, f.Mode().Perm(), want[i].name, want[i].mode)
		}
	}
}

// firstBuild keeps the first build of the package's tests: the zip-running test
// reuses the reproducibility test's first build instead of making a third.
var firstBuild struct {
	sync.Mutex
	zip    []byte
	stdout string
}

// sharedBuild returns the package's first build, building it if none exists.
func sharedBuild(t *testing.T) ([]byte, string) {
	t.Helper()
	firstBuild.Lock()
	defer firstBuild.Unlock()
	if firstBuild.zip == nil {
		firstBuild.zip, firstBuild.stdout = buildOnce(t)
	}
	return firstBuild.zip, firstBuild.stdout
}

func buildOnce(t *testing.T) (zipBytes []byte, stdout string) {
	t.Helper()
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(repoRoot(t), "scripts", "build.sh"), out)
	cmd.Dir = t.TempDir() // the script must not depend on the caller's directory
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/build.sh: %v\n%s%s", err, so.String(), se.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "start-ecs.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return b, so.String()
}

// Two builds give the same bytes, and the zip holds what the go1 runtime execs:
// a static, stripped linux/amd64 executable named as s.yaml's handler, mode 0755,
// with no path of the build machine in it.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping two full builds of the function (scripts/build.sh)")
	}
	first, stdout := sharedBuild(t)
	second, _ := buildOnce(t)
	if !bytes.Equal(first, second) {
		t.Fatalf("two builds differ: %d and %d bytes", len(first), len(second))
	}
	if !strings.Contains(stdout, "start-ecs.zip") || !strings.Contains(stdout, "bytes") {
		t.Errorf("build.sh does not print the zip's size: %q", stdout)
	}

	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	var handlers []string
	for _, r := range resources(t) {
		handlers = append(handlers, str(r.raw, "handler"))
	}
	if len(zr.File) != 1 || zr.File[0].Name != handlers[0] {
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		t.Fatalf("zip holds %v, want exactly the handler %q", names, handlers[0])
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Mode().IsRegular() {
		t.Errorf("%s has mode %v, want a regular file 0755 (the runtime execs it)", f.Name, f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF executable: %v", err)
	}
	if ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Errorf("ELF machine %v type %v, want EM_X86_64 ET_EXEC (linux/amd64, not PIE)", ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary is dynamically linked (%v): build with CGO_ENABLED=0", p.Type)
		}
	}
	if ef.Section(".symtab") != nil {
		t.Error("binary has a symbol table: build with -ldflags -s")
	}
	if bytes.Contains(bin, []byte(repoRoot(t))) {
		t.Error("binary contains the build machine's module path: build with -trimpath")
	}
	// The size guard (DESIGN §2): a build without -tags validator_novalidatefn links
	// every ECS client method (26.5 MB binary, 6.7 MB zip); FC fetches and
	// unpacks the package on every cold start.
	const maxBinary, maxZip = 12_000_000, 4 << 20
	if len(bin) > maxBinary {
		t.Errorf("the shipped binary has %d bytes, over %d: is -tags %s missing?", len(bin), maxBinary, build.Tags)
	}
	if len(first) > maxZip {
		t.Errorf("the zip has %d bytes, over 4 MiB (%d)", len(first), maxZip)
	}
	// DESIGN §3.1: the binary embeds the time zone database (handler/tzdb,
	// the data of Go's zoneinfo.zip), whose index names every zone:
	// skipDates in Asia/Shanghai must not depend on the runtime's zoneinfo.
	// Once (twice is allowed, as a zip names a zone): a second copy
	// (time/tzdata imported too) is 400 KB for nothing.
	if !bytes.Contains(bin, []byte("America/Argentina/Buenos_Aires")) || !bytes.Contains(bin, []byte("Pacific/Kiritimati")) {
		t.Error("the binary does not embed the time zone database (handler/tzdb)")
	}
	if n := bytes.Count(bin, []byte("Pacific/Kiritimati")); n > 2 {
		t.Errorf("the binary embeds the time zone database more than once (%d names of one zone): import time/tzdata nowhere, handler/tzdb has it", n)
	}
}

// scripts/build.sh -h prints its usage and builds nothing; an unknown option
// is a usage error, never a directory named after it.
func TestBuildScriptHelp(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		exit     int
		inStdout bool
	}{
		{[]string{"-h"}, 0, true},
		{[]string{"--help"}, 0, true},
		{[]string{"-x"}, 2, false},
		{[]string{"a", "b"}, 2, false},
	} {
		dir := t.TempDir()
		cmd := exec.CommandContext(t.Context(), "bash", append([]string{filepath.Join(repoRoot(t), "scripts", "build.sh")}, tc.args...)...)
		cmd.Dir = dir
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		out := se.String()
		if tc.inStdout {
			out = so.String()
		}
		if code != tc.exit || !strings.HasPrefix(out, "usage: scripts/build.sh [OUT_DIR]") {
			t.Errorf("build.sh %v: exit %d, stdout %q, stderr %q; want exit %d and the usage", tc.args, code, so.String(), se.String(), tc.exit)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("build.sh %v made %v", tc.args, entries)
		}
	}
}
