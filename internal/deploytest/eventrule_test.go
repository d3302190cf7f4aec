package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// matchPattern applies the subset of EventBridge's event patterns that s.yaml
// uses: an object's keys must all match; a list of values matches when the
// event's value equals one of them; a nested object matches the nested value.
func matchPattern(pattern, event any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		ev, ok := event.(map[string]any)
		if !ok {
			return false
		}
		for k, sub := range p {
			if !matchPattern(sub, ev[k]) {
				return false
			}
		}
		return true
	case []any:
		for _, want := range p {
			if want == event {
				return true
			}
		}
		return false
	}
	return false
}

// patternIsSimple reports whether a pattern uses only the forms matchPattern
// knows (objects and lists of strings), so that the matcher's verdict counts.
func patternIsSimple(p any) bool {
	switch x := p.(type) {
	case map[string]any:
		for _, v := range x {
			if !patternIsSimple(v) {
				return false
			}
		}
		return true
	case []any:
		for _, v := range x {
			if _, ok := v.(string); !ok {
				return false
			}
		}
		return len(x) > 0
	}
	return false
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// The default-bus rules pass the events the function acts on and stop other
// kinds of events. They match on the documented source and type only: a state
// change to Running passes the rule (the layout of its data is not published, and
// a filter on a guessed key would silently never fire) and the function ignores it.
func TestEventRuleFilterPatterns(t *testing.T) {
	stopped := readJSON(t, filepath.Join("testdata", "ecs-statechange-stopped.json"))
	running := readJSON(t, filepath.Join("testdata", "ecs-statechange-running.json"))
	alarm := readJSON(t, filepath.Join("testdata", "cms-alert-webhook.json"))
	want := map[string]struct{ pass, stop []any }{
		"ecs-stopped": {pass: []any{stopped, running}, stop: []any{alarm}},
		"cms-alarm":   {pass: []any{alarm}, stop: []any{stopped, running}},
	}
	seen := 0
	for _, tr := range triggers(t) {
		if tr.typ != "eventbridge" {
			continue
		}
		var pattern any
		src := str(tr.config, "eventRuleFilterPattern")
		if err := json.Unmarshal([]byte(src), &pattern); err != nil {
			t.Errorf("%s: eventRuleFilterPattern is not JSON: %v", tr.name, err)
			continue
		}
		if str(tr.config, "eventSourceConfig", "eventSourceType") != "Default" {
			continue
		}
		seen++
		if !patternIsSimple(pattern) {
			t.Errorf("%s: pattern %s uses forms this test cannot evaluate", tr.name, src)
			continue
		}
		cases, ok := want[tr.name]
		if !ok {
			t.Errorf("%s: a default-bus trigger without sample events in this test", tr.name)
			continue
		}
		for i, ev := range cases.pass {
			if !matchPattern(pattern, ev) {
				t.Errorf("%s: pattern %s does not pass sample %d", tr.name, src, i)
			}
		}
		for i, ev := range cases.stop {
			if matchPattern(pattern, ev) {
				t.Errorf("%s: pattern %s passes unrelated sample %d", tr.name, src, i)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d default-bus triggers, want %d (ecs-stopped, cms-alarm)", seen, len(want))
	}
}

func TestPatternMatcher(t *testing.T) {
	var p, yes, no any
	_ = json.Unmarshal([]byte(`{"source":["acs.ecs"],"data":{"state":["Stopped","Deleted"]}}`), &p)
	_ = json.Unmarshal([]byte(`{"source":"acs.ecs","type":"x","data":{"state":"Deleted","z":1}}`), &yes)
	_ = json.Unmarshal([]byte(`{"source":"acs.ecs","data":{"state":"Running"}}`), &no)
	if !matchPattern(p, yes) || matchPattern(p, no) || matchPattern(p, nil) {
		t.Error("matcher disagrees with EventBridge's exact-value semantics")
	}
}
