package handler

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/plan"
)

// tagQuery is ECS's query spelling of pairs Tag.N.Key=kN&Tag.N.Value=vN for
// each N of ns.
func tagQuery(ns ...int) string {
	var b strings.Builder
	b.WriteString("RegionId=cn-hangzhou")
	for _, n := range ns {
		fmt.Fprintf(&b, "&Tag.%d.Key=k%d&Tag.%d.Value=v%d", n, n, n, n)
	}
	return b.String()
}

// timerCarrying is a timer event whose payload is body.
func timerCarrying(t *testing.T, body string) string {
	return `{"triggerTime":"2026-11-26T00:30:00Z","triggerName":"t","payload":` + string(mustMarshal(t, body)) + `}`
}

// mnsCarrying is an EventBridge MNS queue event whose message body is body.
func mnsCarrying(t *testing.T, body string) string {
	return `{"specversion":"1.0","id":"e1","source":"s","type":"mns:Queue:SendMessage","data":{"messageId":"m1","messageBody":` + string(mustMarshal(t, body)) + `}}`
}

// seq is 1, 2, …, n.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// DESIGN §3.1 tags, ECS spelling: Tag.N.Key/Tag.N.Value with N running 1, 2,
// 3, … up to 20 without a gap, like InstanceId.N, and no Tag.N.Value without
// its Tag.N.Key: a lost pair would widen the selection, and more instances
// would start. The request is refused whole, in every carrier, JSON or query.
func TestTagIndexesRunWithoutAGap(t *testing.T) {
	refused := []struct {
		name, query, field, text string
	}{
		{"a gap", tagQuery(1, 3), "Tag.3.Key", "Tag.2 is missing"},
		{"Tag.2 alone", tagQuery(2), "Tag.2.Key", "Tag.1 is missing"},
		{"a huge N", "RegionId=cn-hangzhou&Tag.1000000000.Key=env", "Tag.1000000000.Key", "Tag.1 is missing"},
		{"a gap after twenty", tagQuery(append(seq(19), 21)...), "Tag.21.Key", "Tag.20 is missing"},
		{"21 pairs", tagQuery(seq(21)...), "Tag.N", "at most 20"},
		{"a value without its key", "RegionId=cn-hangzhou&Tag.1.Key=env&Tag.2.Value=dev", "Tag.2.Value", "has no Tag.2.Key"},
		{"a value alone at 1", "RegionId=cn-hangzhou&Tag.1.Value=dev&Tag.2.Key=env", "Tag.1.Value", "has no Tag.1.Key"},
	}
	carriers := map[string]func(query string) string{
		"JSON": func(q string) string {
			vals, err := url.ParseQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			obj := map[string]string{}
			for k, v := range vals {
				obj[k] = v[0]
			}
			return string(mustMarshal(t, obj))
		},
		"direct query":  func(q string) string { return q },
		"timer payload": func(q string) string { return timerCarrying(t, q) },
		"MNS body":      func(q string) string { return mnsCarrying(t, q) },
	}
	for name, wrap := range carriers {
		for _, tc := range refused {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				msgs := events.Decode([]byte(wrap(tc.query)))
				if len(msgs) != 1 || msgs[0].Ignored != "" {
					t.Fatalf("%+v, want one start request", msgs)
				}
				errs := slices.Concat(msgs[0].Errors, plan.Validate(msgs[0].Request))
				for _, e := range errs {
					if e.Field == tc.field && strings.Contains(e.Message, tc.text) {
						return
					}
				}
				t.Fatalf("errors %+v, want %s with %q", errs, tc.field, tc.text)
			})
		}
		for _, n := range []int{1, 2, 20} {
			msgs := events.Decode([]byte(wrap(tagQuery(seq(n)...))))
			if len(msgs) != 1 || msgs[0].Ignored != "" || len(msgs[0].Errors) > 0 || len(msgs[0].Request.Tags) != n {
				t.Fatalf("%s, Tag.1 to Tag.%d: %+v, want a request with %d pairs", name, n, msgs, n)
			}
			if errs := plan.Validate(msgs[0].Request); len(errs) > 0 {
				t.Errorf("%s, Tag.1 to Tag.%d: %+v", name, n, errs)
			}
		}
	}
}

// DESIGN §3.1 tags, JSON spelling: 1 to 20 pairs, the same bound.
func TestJSONTagsOneToTwenty(t *testing.T) {
	pairs := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"key":"k%d","value":"v%d"}`, i, i)
		}
		return `{"regionId":"cn-hangzhou","tags":[` + b.String() + `]}`
	}
	for n, ok := range map[int]bool{0: false, 1: true, 20: true, 21: false, 1000: false} {
		msgs := events.Decode([]byte(pairs(n)))
		if len(msgs) != 1 || msgs[0].Ignored != "" {
			t.Fatalf("%d pairs: %+v", n, msgs)
		}
		errs := slices.Concat(msgs[0].Errors, plan.Validate(msgs[0].Request))
		if ok != (len(errs) == 0) || (!ok && errs[0].Field != "tags") {
			t.Errorf("%d pairs: errors %+v, want valid %v", n, errs, ok)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
