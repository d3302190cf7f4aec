package events

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkDecode decodes each sample of testdata/events, every event form
// the function is sent: an HTTP trigger event is parsed and its request
// decoded (ParseHTTP, DecodeHTTP), any other is decoded by Decode.
func BenchmarkDecode(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "events", "*"))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "README.md" {
			continue
		}
		payload, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".txt"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if req, ok, err := ParseHTTP(payload); ok {
					if err != nil {
						b.Fatal(err)
					}
					DecodeHTTP(req)
					continue
				}
				if len(Decode(payload)) == 0 {
					b.Fatal("no message")
				}
			}
		})
	}
}
