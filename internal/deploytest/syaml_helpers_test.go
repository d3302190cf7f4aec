// Package deploytest checks the deployment side of start-ecs against what the
// platform and the function accept: s.yaml against the fc3 component's schema of
// props and the trigger configurations of Function Compute 3.0, the timer
// payloads and sample messages against the function's own decoding and
// validation, the RAM policies, and the build's reproducibility.
package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above the test: %v", err)
	}
	return root
}

// The deployment is s.yaml, what every account can deploy, and beside it the
// s.*.yaml files for triggers that need a resource of the user's own (DESIGN
// §1), deployed with `s deploy -t <file>`. Every test below reads all of them.

// deployFileNames lists s.yaml first, then every s.*.yaml beside it.
func deployFileNames(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "s.yaml")); err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join(root, "s.*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"s.yaml"}
	for _, m := range more {
		names = append(names, filepath.Base(m))
	}
	sort.Strings(names[1:])
	return names
}

// readDeployFile parses one file as any YAML parser would (anchors and merge
// keys resolved, ${…} variables left as written), without resolving extend.
func readDeployFile(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	return doc
}

// loadDeployFile is a file as `s -t <name>` sees it: with `extend: <parent>`,
// Serverless Devs merges the file over its parent (objects key by key, deeply;
// a list or a scalar replaces the parent's).
func loadDeployFile(t *testing.T, name string) map[string]any {
	t.Helper()
	doc := readDeployFile(t, name)
	parent, ok := doc["extend"].(string)
	if !ok {
		if _, set := doc["extend"]; set {
			t.Fatalf("%s: extend is not a file name", name)
		}
		return doc
	}
	if parent == name {
		t.Fatalf("%s extends itself", name)
	}
	merged, _ := mergeExtend(loadDeployFile(t, parent), doc).(map[string]any)
	delete(merged, "extend")
	return merged
}

// mergeExtend is Serverless Devs' extend: over's objects merged into base's,
// anything else of over replacing base's.
func mergeExtend(base, over any) any {
	b, ok1 := base.(map[string]any)
	o, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	out := make(map[string]any, len(b)+len(o))
	for k, v := range b {
		out[k] = v
	}
	for k, v := range o {
		if bv, ok := out[k]; ok {
			out[k] = mergeExtend(bv, v)
		} else {
			out[k] = v
		}
	}
	return out
}

// loadSYAML is s.yaml, the first deploy.
func loadSYAML(t *testing.T) map[string]any {
	t.Helper()
	return loadDeployFile(t, "s.yaml")
}

// firstDeployEnv stands for the shell that runs the first `s deploy`: the
// variables s.yaml reads without a default, and nothing else (docs/deploy.md
// lists them).
var firstDeployEnv = map[string]string{
	"SLS_PROJECT":    "start-ecs-logs-1234567890123456",
	"WEBHOOK_SECRET": "test-secret-0123456789abcdef",
}

// deployEnv adds what `s deploy -t s.queues.yaml` needs besides: the
// instances of the user's own queues.
var deployEnv = map[string]string{
	"SLS_PROJECT":          "start-ecs-logs-1234567890123456",
	"ROCKETMQ_INSTANCE_ID": "MQ_INST_1234567890123456_BXhFHryi",
	"KAFKA_INSTANCE_ID":    "alikafka_post-cn-pe337q5qz00c",
	"RABBITMQ_INSTANCE_ID": "amqp-cn-zvp2u8ts2001",
	"WEBHOOK_SECRET":       "test-secret-0123456789abcdef",
}

// testAccountID stands for ${config('AccountID')}, the account of `s config`.
const testAccountID = "1234567890123456"

var (
	varRE = regexp.MustCompile(`\$\{([^}]*)\}`)
	// env('NAME'), env('NAME', 'default'), env(NAME): Serverless Devs' forms.
	envRE    = regexp.MustCompile(`^env\(\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*(?:,\s*'([^']*)'\s*)?\)$`)
	configRE = regexp.MustCompile(`^config\(\s*'AccountID'\s*\)$`)
)

// resolver substitutes s.yaml's ${…} variables the way `s` does, from vars, the
// deploy environment and the account ID. Any other form is an error, so that
// nothing the test cannot vouch for slips into the file.
type resolver struct {
	vars map[string]any
	env  map[string]string
	// envNames records every ${env(…)} name and whether it has a default.
	envNames map[string]bool
}

func newResolver(t *testing.T, doc map[string]any, env map[string]string) *resolver {
	t.Helper()
	vars, _ := doc["vars"].(map[string]any)
	return &resolver{vars: vars, env: env, envNames: map[string]bool{}}
}

func (r *resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return r.resolveString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = rv
		}
		return out, nil
	}
	return v, nil
}

func (r *resolver) resolveString(s string) (string, error) {
	var firstErr error
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		expr := strings.TrimSpace(varRE.FindStringSubmatch(m)[1])
		val, err := r.lookup(expr)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", m, err)
		}
		return val
	})
	return out, firstErr
}

func (r *resolver) lookup(expr string) (string, error) {
	if name, ok := strings.CutPrefix(expr, "vars."); ok {
		var cur any = r.vars
		for _, part := range strings.Split(name, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return "", fmt.Errorf("vars has no %s", name)
			}
			if cur, ok = m[part]; !ok {
				return "", fmt.Errorf("vars has no %s", name)
			}
		}
		s, ok := cur.(string)
		if !ok {
			return "", fmt.Errorf("vars.%s is not a string", name)
		}
		return r.resolveString(s)
	}
	if m := envRE.FindStringSubmatch(expr); m != nil {
		name, hasDefault := m[1], strings.Contains(expr, ",")
		r.envNames[name] = r.envNames[name] || hasDefault
		if v, ok := r.env[name]; ok {
			return v, nil
		}
		if hasDefault {
			return m[2], nil
		}
		return "", fmt.Errorf("the deploy environment must set %s", name)
	}
	if configRE.MatchString(expr) {
		return testAccountID, nil
	}
	return "", fmt.Errorf("unknown variable form %q", expr)
}

// resource is one fc3 resource of a deployment file, as written (extend
// resolved) and as `s` resolves it.
type resource struct {
	file     string
	name     string
	vars     map[string]any
	raw      map[string]any
	resolved map[string]any
}

// resources lists the resources of every deployment file, each file with
// its extend resolved: a resource that a file inherits is listed for it too,
// as `s deploy -t <file>` deploys it again.
func resources(t *testing.T) []resource {
	t.Helper()
	var out []resource
	for _, file := range deployFileNames(t) {
		out = append(out, fileResources(t, file, deployEnv)...)
	}
	return out
}

func fileResources(t *testing.T, file string, env map[string]string) []resource {
	t.Helper()
	doc := loadDeployFile(t, file)
	res, ok := doc["resources"].(map[string]any)
	if !ok || len(res) == 0 {
		t.Fatalf("%s has no resources", file)
	}
	vars, _ := doc["vars"].(map[string]any)
	r := newResolver(t, doc, env)
	names := make([]string, 0, len(res))
	for name := range res {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []resource
	for _, name := range names {
		body, _ := res[name].(map[string]any)
		props, ok := body["props"].(map[string]any)
		if !ok {
			t.Fatalf("%s: resource %s has no props", file, name)
		}
		resolved, err := r.resolve(props)
		if err != nil {
			t.Fatalf("%s: resource %s: %v", file, name, err)
		}
		out = append(out, resource{file: file, name: name, vars: vars, raw: props, resolved: resolved.(map[string]any)})
	}
	return out
}

type trigger struct {
	file     string // the deployment file that defines it
	function string
	name     string
	typ      string
	vars     map[string]any // the vars of its file, extend resolved
	config   map[string]any
	raw      map[string]any
	resolved map[string]any // the whole trigger, ${…} resolved
}

// triggers lists every trigger of every function of every deployment file,
// with its resolved config, once: a trigger that a file inherits unchanged
// through extend belongs to the file that defines it. The same function and
// trigger name defined differently in two files is an error: the second
// deploy would silently redefine the first's trigger.
func triggers(t *testing.T) []trigger {
	t.Helper()
	var out []trigger
	seen := map[string]trigger{}
	for _, res := range resources(t) {
		list, _ := res.resolved["triggers"].([]any)
		rawList, _ := res.raw["triggers"].([]any)
		for i, e := range list {
			m, _ := e.(map[string]any)
			cfg, _ := m["triggerConfig"].(map[string]any)
			raw, _ := rawList[i].(map[string]any)
			name, _ := m["triggerName"].(string)
			typ, _ := m["triggerType"].(string)
			tr := trigger{file: res.file, function: res.name, name: name, typ: typ, vars: res.vars, config: cfg, raw: raw, resolved: m}
			key := res.name + "/" + name
			if prev, ok := seen[key]; ok {
				if !reflect.DeepEqual(prev.resolved, m) {
					t.Errorf("trigger %s is defined in %s and, differently, in %s", key, prev.file, res.file)
				}
				continue
			}
			seen[key] = tr
			out = append(out, tr)
		}
	}
	if len(out) == 0 {
		t.Fatal("no deployment file declares a trigger")
	}
	return out
}

// toJSON turns YAML-decoded values into what encoding/json would produce, the
// form JSON Schema validators and comparisons expect.
func toJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func obj(m map[string]any, path ...string) map[string]any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	out, _ := cur.(map[string]any)
	return out
}
