package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// One build path: nothing in the repository but this package runs
// `go build` on the function, so no build can leave out the flags that ship.
// The FC emulator's own test function (internal/fcemu/testdata/echofn) is not
// the function and is built by fcemu.Build.
func TestNothingElseBuildsTheFunction(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goBuild := regexp.MustCompile(`"go",\s*"build"|\bgo build\b`)
	allowed := map[string]bool{"internal/build/build.go": true, "internal/fcemu/process.go": true}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || d.Name() == "dist" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".sh") || strings.HasSuffix(path, "_test.go") || allowed[filepath.ToSlash(rel)] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			code := line
			if c := strings.Index(code, "//"); c >= 0 {
				code = code[:c]
			}
			if c := strings.Index(code, "#"); c >= 0 && strings.HasSuffix(path, ".sh") {
				code = code[:c]
			}
			if goBuild.MatchString(code) {
				t.Errorf("%s:%d runs go build itself; build through internal/build: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestArgsCarryTheShippedFlags(t *testing.T) {
	for _, o := range []Options{{}, {ForFC: true}, {Race: true}} {
		args := strings.Join(Args(o), " ")
		for _, want := range []string{"-tags " + Tags, "-trimpath", "-buildvcs=false", "-ldflags " + LDFlags} {
			if !strings.Contains(args, want) {
				t.Errorf("%+v: go %s lacks %s", o, args, want)
			}
		}
		env := strings.Join(Env(o), " ")
		if o.ForFC != strings.Contains(env, "GOOS=linux GOARCH=amd64") {
			t.Errorf("%+v: env %s", o, env)
		}
		if !o.Race && !strings.Contains(env, "CGO_ENABLED=0") {
			t.Errorf("%+v: a build that is not for the race detector must be static: %s", o, env)
		}
	}
}

// DESIGN §1: the deployed binary links none of the emulators, the harness or
// the functions the benchmarks compare it with.
func TestTheFunctionLinksNoTestDouble(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-tags", Tags, "-deps", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if strings.HasPrefix(dep, "github.com/start-ecs/start-ecs/internal/") ||
			strings.HasPrefix(dep, "github.com/start-ecs/start-ecs/") && strings.HasSuffix(dep, "test") {
			t.Errorf("the function links %s", dep)
		}
	}
}

// The functions the benchmarks compare with build with the flags that ship.
func TestPackageBuildsTheBenchmarkFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"./internal/benchfn/empty", "./internal/benchfn/floor"} {
		out := filepath.Join(t.TempDir(), "fn")
		if err := Package(t.Context(), root, pkg, out, Options{}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", pkg, err)
		}
	}
}
