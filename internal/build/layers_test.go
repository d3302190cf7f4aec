package build

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module = "github.com/start-ecs/start-ecs"
	sdk    = "github.com/aliyun/alibaba-cloud-sdk-go"
)

// listed is what `go list -json` says of one package.
type listed struct {
	ImportPath   string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// listPackages lists every package of the module, with the shipped tags.
func listPackages(t *testing.T) map[string]listed {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-tags", Tags, "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// hasPrefixPath says whether path is pkg or below it.
func hasPrefixPath(path, pkg string) bool {
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

// DESIGN §1 Layout: the layers of handler/ are kept by the import graph,
// not by convention. The face (handler) drives the lower packages and none
// of them calls back up; the starter knows nothing of events or of the
// plan; the plan cannot call ECS; the answer's types, the ECS seam and the
// schedule parser (zones from tzdb alone) are leaves; the notifier
// (handler/notify) reads the answer's types and the standard library alone;
// only the adapters import the SDK.
func TestHandlerLayersKeepTheirImports(t *testing.T) {
	pkgs := listPackages(t)
	const (
		handler    = module + "/handler"
		events     = module + "/events"
		plan       = handler + "/plan"
		starter    = handler + "/starter"
		aliyun     = handler + "/aliyun"
		ecsapi     = handler + "/ecsapi"
		ecsapitest = ecsapi + "/ecsapitest"
		result     = handler + "/result"
		schedule   = handler + "/schedule"
		tzdb       = handler + "/tzdb"
		notify     = handler + "/notify"
	)
	for _, must := range []string{handler, starter, aliyun, ecsapi, ecsapitest, result, schedule, notify} {
		if _, ok := pkgs[must]; !ok {
			t.Fatalf("go list does not list %s", must)
		}
	}
	// deny lists, per package, the packages it may not depend on at all
	// (directly or through another): a path, or a tree when it ends in /...
	deny := map[string][]string{
		starter:    {handler, events + "/...", plan + "/...", aliyun, sdk + "/..."},
		plan:       {handler, starter, aliyun, sdk + "/..."},
		aliyun:     {handler, events + "/...", plan + "/...", starter},
		ecsapi:     {module + "/...", sdk + "/..."},
		result:     {module + "/...", sdk + "/..."},
		ecsapitest: {module + "/...", sdk + "/..."},
		schedule:   {module + "/...", sdk + "/..."},
		notify:     {module + "/...", sdk + "/..."},
	}
	// allow lists what a leaf may import of the module after all.
	allow := map[string][]string{ecsapitest: {ecsapi}, schedule: {tzdb}, notify: {result}}
	// The notifier depends on nothing outside the standard library but
	// handler/result: a standard package's path has no dot in its first
	// element.
	for _, dep := range pkgs[notify].Deps {
		first, _, _ := strings.Cut(dep, "/")
		if strings.Contains(first, ".") && dep != result {
			t.Errorf("%s depends on %s: only %s and the standard library", notify, dep, result)
		}
	}
	for pkg, denied := range deny {
		p, ok := pkgs[pkg]
		if !ok {
			continue // a package not (yet) split out
		}
		for _, dep := range p.Deps {
			if slices.Contains(allow[pkg], dep) {
				continue
			}
			for _, d := range denied {
				tree, isTree := strings.CutSuffix(d, "/...")
				if dep == d || isTree && hasPrefixPath(dep, tree) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	for path, p := range pkgs {
		// No package imports the face but the function's main.
		if path != module {
			for _, imp := range p.Imports {
				if imp == handler {
					t.Errorf("%s imports %s: the face is imported by main alone", path, imp)
				}
			}
		}
		// Below the face, not even a test reaches up to it.
		if strings.HasPrefix(path, handler+"/") {
			for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
				if imp == handler {
					t.Errorf("a test of %s imports %s", path, imp)
				}
			}
		}
		// The v1 SDK is imported by the adapters alone (the benchmarks'
		// floor function, which is not the function, aside).
		if path != aliyun && !strings.HasPrefix(path, module+"/internal/benchfn/") {
			for _, imp := range p.Imports {
				if hasPrefixPath(imp, sdk) {
					t.Errorf("%s imports %s: only %s may", path, imp, aliyun)
				}
			}
		}
	}
}
