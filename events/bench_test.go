package events

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkDecode decodes each sample of testdata/events, every event form
// the function is sent: an HTTP trigger event is parsed and its request
// decoded (Read, DecodeHTTP), any other decoded by the same Read, as the
// handler reads it.
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
				p := Read(payload) // as the handler reads it
				if p.HTTP != nil {
					if p.HTTPErr != nil {
						b.Fatal(p.HTTPErr)
					}
					DecodeHTTP(p.HTTP)
					continue
				}
				if len(p.Messages) == 0 {
					b.Fatal("no message")
				}
			}
		})
	}
}
