package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The CI example of docs/operations.md sends every timer payload of s.yaml
// through the local runner (DESIGN §9): each timer of s.yaml must come out as
// one file holding its payload, JSON as written.
func TestEveryTimerPayloadOfSYAMLIsWritten(t *testing.T) {
	dir := t.TempDir()
	paths, err := write(filepath.Join("..", "..", "s.yaml"), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"weekday-morning.json": true, "monthly-batch.json": true, "app-in-order.json": true}
	for _, p := range paths {
		delete(want, filepath.Base(p))
		b, err := os.ReadFile(p)
		if err != nil || !json.Valid(b) {
			t.Errorf("%s: %v, valid JSON %v: %s", p, err, json.Valid(b), b)
		}
	}
	if len(want) > 0 {
		t.Errorf("no file for %v among %v", want, paths)
	}
}
