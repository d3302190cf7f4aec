package events

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode feeds raw payloads to the event decoder: Decode never panics,
// always returns at least one message, is deterministic (the same payload, the
// same messages), never both ignores a message and carries a request, and
// keeps one IDFields entry per ID and every error's index within the IDs;
// ParseHTTP and DecodeHTTP never panic and are deterministic too.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "events", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{"", "[]", `["{\"specversion\":\"1.0\"}"]`, `b'{}'`, `"\"\\\"\""`, `{"InstanceId.1":1}`,
		`{"schedule":{"every":"5m","TagKey":"k"},"Preview":"7d","workDates":["2027-02-20"],"targets":[{"schedule":{}}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		msgs := Decode(payload)
		if len(msgs) == 0 {
			t.Fatal("Decode returned no message")
		}
		if again := Decode(payload); !reflect.DeepEqual(msgs, again) {
			t.Fatalf("Decode is not deterministic:\n%+v\n%+v", msgs, again)
		}
		for _, m := range msgs {
			if m.Ignored != "" && len(m.Request.InstanceIDs) > 0 {
				t.Fatalf("an ignored message carries a request: %+v", m)
			}
			if m.Request.IDFields != nil && len(m.Request.IDFields) != len(m.Request.InstanceIDs) {
				t.Fatalf("%d IDFields for %d IDs: %+v", len(m.Request.IDFields), len(m.Request.InstanceIDs), m.Request)
			}
			for _, e := range m.Errors {
				if i, ok := e.Index(); ok && i >= len(m.Request.InstanceIDs) {
					t.Fatalf("error %+v points past the %d IDs", e, len(m.Request.InstanceIDs))
				}
				if e.Field == "" || e.Message == "" {
					t.Fatalf("an error names no field or says nothing: %+v", e)
				}
			}
		}
		if r, ok, err := ParseHTTP(payload); ok && err == nil {
			m1, e1 := DecodeHTTP(r)
			m2, e2 := DecodeHTTP(r)
			if !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(e1, e2) {
				t.Fatal("DecodeHTTP is not deterministic")
			}
		}
	})
}
