package handler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

// loggedKeys reads, from the function's source (this package and main.go),
// every key its log lines can carry and the SLS index type it needs: the
// first argument of slog.String, slog.Int, … (a string literal), and the
// keys of the key-value pairs given to a logger's Info, Warn, Error, Debug,
// Log or LogAttrs; with slog's own time, level and msg.
func loggedKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{"time": "text", "level": "text", "msg": "text"}
	files, _ := filepath.Glob("*.go")
	files = append(files, filepath.Join("..", "main.go"))
	fset := token.NewFileSet()
	add := func(lit ast.Expr, typ string) {
		if bl, ok := lit.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			k, _ := strconv.Unquote(bl.Value)
			if old, ok := keys[k]; ok && old != typ && typ == "text" {
				return // a key also written as a number keeps its number type
			}
			keys[k] = typ
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "slog" && len(call.Args) > 0 {
				switch sel.Sel.Name {
				case "Int", "Int64", "Uint64", "Duration":
					add(call.Args[0], "long")
				case "Float64":
					add(call.Args[0], "double")
				case "String", "Bool", "Any", "Time":
					add(call.Args[0], "text")
				}
				return true
			}
			first := -1 // the index of the first key-value argument
			switch sel.Sel.Name {
			case "Debug", "Info", "Warn", "Error":
				first = 1
			case "Log":
				first = 3
			}
			if first < 0 || len(call.Args) <= first {
				return true
			}
			for i := first; i < len(call.Args); i += 2 {
				add(call.Args[i], "text")
			}
			return true
		})
	}
	return keys
}

// indexedKeys reads the json_keys of the SLS index in docs/operations.md.
func indexedKeys(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)Index configuration.*?```json\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/operations.md: no index configuration")
	}
	var index struct {
		Keys struct {
			Message struct {
				JSONKeys map[string]struct {
					Type     string `json:"type"`
					DocValue bool   `json:"doc_value"`
				} `json:"json_keys"`
			} `json:"message"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(m[1], &index); err != nil {
		t.Fatalf("docs/operations.md: the index is not JSON: %v", err)
	}
	out := map[string]string{}
	for k, v := range index.Keys.Message.JSONKeys {
		if !v.DocValue {
			t.Errorf("index key %s has no doc_value: the queries cannot group by it", k)
		}
		out[k] = v.Type
	}
	return out
}

// DESIGN §5 log store: a query on a key the log lines carry finds them
// only if the key is indexed. docs/operations.md's SLS index holds every key
// the code writes (read from the source, so a key added later fails here
// until it is indexed), with the type its values have; and an invocation
// that writes each kind of line writes no key outside the index.
func TestSLSIndexHoldsEveryLoggedKey(t *testing.T) {
	logged, indexed := loggedKeys(t), indexedKeys(t)
	if len(logged) < 20 {
		t.Fatalf("only %d keys found in the source: %v", len(logged), logged)
	}
	var missing []string
	for k, typ := range logged {
		switch got, ok := indexed[k]; {
		case !ok:
			missing = append(missing, k)
		case got != typ:
			t.Errorf("index key %s is %s, but the code writes it as %s", k, got, typ)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/operations.md's index lacks %v: a query on them finds nothing", missing)
	}
	for k := range indexed {
		if _, ok := logged[k]; !ok {
			t.Errorf("index key %s is written by no log line", k)
		}
	}

	// Run the logger: instances (one of another account, one waited for,
	// one named by two sources), an ignored event, the summary, a refusal.
	const own, other, gone = "i-logkeys0001", "i-logkeys0002", "i-logkeys0003"
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{own, other}))
	e := fl.ECS()
	e.Start = func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
		out, err := fl.Start(in)
		for _, id := range in.InstanceIDs {
			if err == nil && !in.DryRun {
				fl.Set(id, "Running") // so that the wait sees it run
			}
		}
		return out, err
	}
	h, out := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou", "ALLOWED_ROLE_ARNS": roleB}, e)
	h.SetSTS(&fakeSTS{})
	h.starter.PollInterval = 10 * time.Millisecond
	inv := testInvocation(h)
	h.run(context.Background(), inv, []events.Message{
		msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{own}, Wait: "5s"}),
		msg("b", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{own, gone}}),
		msg("c", events.StartRequest{RegionID: "cn-shanghai", InstanceIDs: []string{other}, RoleArn: roleB}),
		{Trigger: events.Direct, Source: "d", Ignored: "not a start request"},
	}, time.Time{})
	h.flush(inv)
	refused := testInvocation(h)
	h.logRefusal(refused, events.HTTP, 401, "Unauthorized", "no", slog.String("sourceIp", "192.0.2.1"))
	h.flush(refused)
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		for k := range line {
			seen[k] = true
			if _, ok := indexed[k]; !ok {
				t.Errorf("a %v line carries %s, which the index lacks", line["msg"], k)
			}
		}
	}
	for _, k := range []string{"accountId", "runningAfterMs", "sources", "reason", "status", "sourceIp", "currentStatus", "previousStatus", "ecsRequestId", "dryRun", "retryable"} {
		if !seen[k] {
			t.Errorf("the run wrote no %s: the test no longer covers it", k)
		}
	}
}

// DESIGN §9, alert rules as code: each SLS CreateAlert body in alerts/ is a
// rule whose query finds lines the function writes. Every message.<key> its
// query names is a key the code logs (loggedKeys, read from the source), every
// msg, outcome and trigger it compares with is one the lines carry, the
// numeric keys it compares are logged as numbers, and the rule's name is what
// alerts/create.sh updates. The Unfinished rule fires at FC's last retry:
// its retryCount bound is maxAsyncRetryAttempts of s.yaml.
func TestAlertQueriesUseLoggedKeys(t *testing.T) {
	logged := loggedKeys(t)
	files, _ := filepath.Glob(filepath.Join("..", "alerts", "*.json"))
	want := map[string]bool{"failed": true, "unfinished-after-retries": true, "mistake": true, "watchdog": true, "calendar": true}
	values := map[string]map[string]bool{
		"msg":     {"instance": true, "ignored": true, "summary": true, "calendar": true},
		"outcome": {"Started": true, "AlreadyRunning": true, "DryRunPassed": true, "Rejected": true, "Failed": true, "Unfinished": true, "Skipped": true},
		"trigger": {}, "mistake": {"true": true},
	}
	for _, tr := range []events.Trigger{events.Direct, events.Timer, events.HTTP, events.MNS, events.MNSTopic, events.RocketMQ, events.Kafka, events.RabbitMQ, events.ECSEvent, events.CMSAlarm} {
		values["trigger"][string(tr)] = true
	}
	syaml, err := os.ReadFile(filepath.Join("..", "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	retries := regexp.MustCompile(`maxAsyncRetryAttempts: (\d+)`).FindSubmatch(syaml)
	if retries == nil {
		t.Fatal("s.yaml: no maxAsyncRetryAttempts")
	}
	keyRe := regexp.MustCompile(`message\.([A-Za-z]+)`)
	cmpRe := regexp.MustCompile(`message\.([A-Za-z]+):\s*([A-Za-z-]+)`)
	numRe := regexp.MustCompile(`message\.([A-Za-z]+)\s*(?:>=|<=|>|<|=)\s*(\d+)`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		delete(want, name)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Name          string `json:"name"`
			Type          string `json:"type"`
			Schedule      struct{ Type, Interval string }
			Configuration struct {
				Version   string `json:"version"`
				QueryList []struct {
					Query, Store, Project, Start string
				} `json:"queryList"`
				SeverityConfigurations []struct {
					EvalCondition struct{ Condition string } `json:"evalCondition"`
				} `json:"severityConfigurations"`
			} `json:"configuration"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if body.Name != "start-ecs-"+name || body.Type != "Alert" || body.Configuration.Version != "2.0" || body.Schedule.Type == "" ||
			len(body.Configuration.QueryList) != 1 || len(body.Configuration.SeverityConfigurations) == 0 {
			t.Errorf("%s: not a CreateAlert body create.sh can update (name %q): %+v", f, body.Name, body)
			continue
		}
		q := body.Configuration.QueryList[0].Query
		search, _, _ := strings.Cut(q, "|")
		for _, m := range keyRe.FindAllStringSubmatch(q, -1) {
			if _, ok := logged[m[1]]; !ok {
				t.Errorf("%s: the query names message.%s, which no log line carries", name, m[1])
			}
		}
		for _, m := range cmpRe.FindAllStringSubmatch(search, -1) {
			if vs, ok := values[m[1]]; ok && !vs[m[2]] {
				t.Errorf("%s: message.%s: %s matches no line", name, m[1], m[2])
			}
		}
		for _, m := range numRe.FindAllStringSubmatch(search, -1) {
			if logged[m[1]] != "long" {
				t.Errorf("%s: message.%s is compared as a number but logged as %s", name, m[1], logged[m[1]])
			}
			if name == "unfinished-after-retries" && m[1] == "retryCount" && m[2] != string(retries[1]) {
				t.Errorf("%s: retryCount >= %s, but s.yaml retries %s times", name, m[2], retries[1])
			}
		}
		// The condition compares a column the query's SELECT names.
		cond := body.Configuration.SeverityConfigurations[0].EvalCondition.Condition
		col, _, _ := strings.Cut(cond, " ")
		if !strings.Contains(q, " AS "+col) {
			t.Errorf("%s: the condition %q names no column of the query", name, cond)
		}
	}
	if len(want) > 0 {
		t.Errorf("alerts/ lacks %v", want)
	}
}
