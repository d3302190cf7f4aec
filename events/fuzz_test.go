package events

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that Decode never panics and always returns at least one
// message, and that ParseHTTP and DecodeHTTP never panic either.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "events", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{"", "[]", `["{\"specversion\":\"1.0\"}"]`, `b'{}'`, `"\"\\\"\""`, `{"InstanceId.1":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		msgs := Decode(payload)
		if len(msgs) == 0 {
			t.Fatal("Decode returned no message")
		}
		for _, m := range msgs {
			if m.Ignored != "" && len(m.Request.InstanceIDs) > 0 {
				t.Fatalf("an ignored message carries a request: %+v", m)
			}
		}
		if r, ok, err := ParseHTTP(payload); ok && err == nil {
			DecodeHTTP(r)
		}
	})
}
