package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/operations.md shows the DingTalk message of the notify package's
// sample: the checked-in picture is what this program draws from the sample
// as it is now (go run ./scripts/notifysvg rewrites it), well-formed, and
// shows what DESIGN §9 asks a message to say.
func TestPictureIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	sample, err := os.ReadFile(filepath.Join(root, samplePath))
	if err != nil {
		t.Fatal(err)
	}
	got, err := render(sample)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(root, svgPath))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is not what the sample draws: run go run ./scripts/notifysvg", svgPath)
	}
	dec := xml.NewDecoder(strings.NewReader(string(got)))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, want := range []string{"start-ecs: 3 instances not started", "i-bp0000000000000000", "Failed", "InsufficientBalance: add funds",
		"the holiday calendar ends on 2027-12-31", `requestId: "req-1"`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the picture does not show %q", want)
		}
	}
	if strings.Contains(text.String(), "**") {
		t.Error("the picture shows markdown marks")
	}
}
