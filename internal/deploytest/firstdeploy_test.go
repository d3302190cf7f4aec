package deploytest

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/handler"
)

// A first deploy cannot go wrong quietly (DESIGN §1, s.yaml): `s deploy`
// deploys only what every account has — the functions, the timers, the HTTP
// triggers and the rules of EventBridge's default bus — so it cannot fail on
// a queue, topic or instance the user has not made; those triggers live in
// an s.*.yaml deployed with `s deploy -t <file>`. s.yaml needs, from the
// deploy shell, SLS_PROJECT and WEBHOOK_SECRET alone.
func TestFirstDeployNeedsOnlyWhatEveryAccountHas(t *testing.T) {
	doc := loadSYAML(t)
	r := newResolver(t, doc, firstDeployEnv)
	if _, err := r.resolve(doc["resources"]); err != nil {
		t.Errorf("s.yaml needs more from the deploy shell than %v: %v", sortedKeys(firstDeployEnv), err)
	}
	res, _ := doc["resources"].(map[string]any)
	for _, name := range sortedKeys(res) {
		list, _ := obj(res[name].(map[string]any), "props")["triggers"].([]any)
		for _, e := range list {
			tr, _ := e.(map[string]any)
			typ, where := str(tr, "triggerType"), name+"/"+str(tr, "triggerName")
			switch typ {
			case "timer", "http":
			case "eventbridge":
				if st := str(tr, "triggerConfig", "eventSourceConfig", "eventSourceType"); st != "Default" {
					t.Errorf("s.yaml: %s reads a %s source, which the account may not have: move it to an s.*.yaml", where, st)
				}
			default:
				t.Errorf("s.yaml: %s is a %s trigger, which needs a resource of the user's own: move it to an s.*.yaml", where, typ)
			}
		}
	}
	if files := deployFileNames(t); len(files) < 2 {
		t.Errorf("deployment files %v: the queue and topic triggers need an s.*.yaml beside s.yaml", files)
	}
}

// The first deploy starts nothing: DRY_RUN_ONLY is true unless the deploy
// shell exports DRY_RUN_ONLY=false, in every function of every deployment
// file, so the weekday timer armed by the first deploy only rehearses. The
// operator's switch works: DRY_RUN_ONLY=false turns it off.
func TestFirstDeployIsADryRun(t *testing.T) {
	all := deployFileNames(t)
	for _, tc := range []struct {
		env   map[string]string
		files []string
		want  bool
	}{
		{firstDeployEnv, []string{"s.yaml"}, true},
		{deployEnv, all, true},
		{withEnv(deployEnv, "DRY_RUN_ONLY", "false"), all, false},
	} {
		for _, file := range tc.files {
			for _, r := range fileResources(t, file, tc.env) {
				env := map[string]string{}
				for k, v := range obj(r.resolved, "environmentVariables") {
					env[k], _ = v.(string)
				}
				cfg, err := handler.ConfigFromEnv(func(k string) string { return env[k] })
				if err != nil {
					t.Errorf("%s: %s: %v", file, r.name, err)
					continue
				}
				if cfg.DryRunOnly != tc.want {
					t.Errorf("%s: %s: DRY_RUN_ONLY is %v with the deploy shell's DRY_RUN_ONLY=%q, want %v", file, r.name, cfg.DryRunOnly, tc.env["DRY_RUN_ONLY"], tc.want)
				}
			}
		}
	}
}

// A stale zip never ships: every deployment file (extend included) runs
// scripts/build.sh as a pre-deploy action from the repository root, the
// directory whose dist/start-ecs.zip the functions' code names.
func TestEveryDeployBuildsTheZipFirst(t *testing.T) {
	for _, file := range deployFileNames(t) {
		actions, _ := obj(loadDeployFile(t, file), "actions")["pre-deploy"].([]any)
		built := false
		for _, a := range actions {
			m, _ := a.(map[string]any)
			run, path := str(m, "run"), str(m, "path")
			fields := strings.Fields(run)
			if !slices.Contains(fields, "scripts/build.sh") {
				continue
			}
			if filepath.Clean(path) != "." {
				t.Errorf("%s: pre-deploy %q runs in %q, want the repository root (./)", file, run, path)
			}
			if fields[0] != "bash" && fields[0] != "scripts/build.sh" {
				t.Errorf("%s: pre-deploy %q: run scripts/build.sh itself or with bash", file, run)
			}
			built = true
		}
		if !built {
			t.Errorf("%s: no pre-deploy action runs scripts/build.sh: `s deploy` would ship whatever dist/start-ecs.zip holds", file)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot(t), "scripts", "build.sh")); err != nil {
		t.Fatal(err)
	}
}

// A second deployment file adds triggers and changes nothing else: it
// extends s.yaml, names only s.yaml's resources, sets nothing of them but
// their trigger lists, redefines no variable of s.yaml and no trigger of
// s.yaml's (fc3 deploys the triggers a file lists and leaves the others, so
// `s deploy -t <file>` must not undo a setting of the first deploy).
func TestSecondFilesOnlyAddTriggers(t *testing.T) {
	base := readDeployFile(t, "s.yaml")
	baseRes, _ := base["resources"].(map[string]any)
	baseVars, _ := base["vars"].(map[string]any)
	for _, file := range deployFileNames(t)[1:] {
		own := readDeployFile(t, file)
		if own["extend"] != "s.yaml" {
			t.Errorf("%s: extend is %v, want s.yaml: the function's settings are defined once", file, own["extend"])
		}
		for k := range own {
			if !slices.Contains([]string{"edition", "extend", "vars", "resources"}, k) {
				t.Errorf("%s: top-level %s would change what s.yaml deploys", file, k)
			}
		}
		for k := range obj(own, "vars") {
			if _, ok := baseVars[k]; ok {
				t.Errorf("%s: vars.%s redefines s.yaml's", file, k)
			}
		}
		res, _ := own["resources"].(map[string]any)
		if len(res) == 0 {
			t.Errorf("%s adds no trigger", file)
		}
		for _, name := range sortedKeys(res) {
			body, _ := res[name].(map[string]any)
			if _, ok := baseRes[name]; !ok {
				t.Errorf("%s: resource %s is not one of s.yaml's", file, name)
				continue
			}
			if len(body) != 1 || len(obj(body, "props")) != 1 || obj(body, "props")["triggers"] == nil {
				t.Errorf("%s: resource %s sets %v; only props.triggers may be set", file, name, sortedKeys(body))
			}
			var baseNames []string
			for _, e := range obj(baseRes[name].(map[string]any), "props")["triggers"].([]any) {
				baseNames = append(baseNames, str(e.(map[string]any), "triggerName"))
			}
			list, _ := obj(body, "props")["triggers"].([]any)
			for _, e := range list {
				if n := str(e.(map[string]any), "triggerName"); slices.Contains(baseNames, n) {
					t.Errorf("%s: %s/%s is s.yaml's trigger too", file, name, n)
				}
			}
		}
		// What `s` deploys for the functions, but for the trigger lists, is s.yaml's.
		merged := loadDeployFile(t, file)
		for name, r := range obj(merged, "resources") {
			got, want := withoutTriggers(r), withoutTriggers(baseRes[name])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: resource %s, extend resolved, differs from s.yaml's in more than its triggers", file, name)
			}
		}
	}
}

func withoutTriggers(r any) map[string]any {
	m, _ := r.(map[string]any)
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	props := map[string]any{}
	for k, v := range obj(m, "props") {
		if k != "triggers" {
			props[k] = v
		}
	}
	out["props"] = props
	return out
}

// docs/deploy.md gives each step as a command, nothing left to the console:
// every numbered step of "Deploy step by step" holds a bash block, the SLS
// project, logstore and index and the dead-letter queue that s.yaml names are
// created by command, and each second deployment file is deployed by one.
func TestDeployDocGivesEveryStepAsACommand(t *testing.T) {
	doc := deployDoc(t)
	start := strings.Index(doc, "## Deploy step by step")
	if start < 0 {
		t.Fatal("docs/deploy.md has no section \"Deploy step by step\"")
	}
	section := doc[start+3:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	if strings.Contains(strings.ToLower(section), "console") {
		t.Error("a deploy step sends the reader to the console")
	}
	stepRE := regexp.MustCompile(`(?m)^(\d+)\. \*\*`)
	idx := stepRE.FindAllStringSubmatchIndex(section, -1)
	if len(idx) < 5 {
		t.Fatalf("found %d numbered steps", len(idx))
	}
	for i, m := range idx {
		end := len(section)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		if !strings.Contains(section[m[0]:end], "```bash") {
			t.Errorf("step %s has no command", section[m[2]:m[3]])
		}
	}
	var commands strings.Builder
	for _, block := range regexp.MustCompile("(?ms)^\\s*```bash\n(.*?)^\\s*```\\s*$").FindAllStringSubmatch(section, -1) {
		commands.WriteString(block[1])
	}
	cmds := strings.ReplaceAll(commands.String(), "\\\n", " ")
	dlq := str(loadSYAML(t), "vars", "deadLetterQueue")
	for what, re := range map[string]string{
		"the SLS project":       `aliyun sls create-project .*--project-name`,
		"the SLS logstore":      `aliyun sls create-log-store .*--logstore-name`,
		"the SLS index":         `aliyun sls create-index .*--keys`,
		"the dead-letter queue": `aliyun mns-open CreateQueue .*--QueueName ` + regexp.QuoteMeta(dlq) + `\b`,
		"the deploy of s.yaml":  `(?m)^\s*s deploy( -y)?\s*(#.*)?$`,
	} {
		if !regexp.MustCompile(re).MatchString(cmds) {
			t.Errorf("docs/deploy.md's steps have no command for %s (%s)", what, re)
		}
	}
	for _, file := range deployFileNames(t)[1:] {
		if !strings.Contains(cmds, "s deploy -t "+file) {
			t.Errorf("docs/deploy.md's steps do not deploy %s (s deploy -t %s)", file, file)
		}
	}
}
