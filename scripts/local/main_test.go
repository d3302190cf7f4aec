package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// -h says how to call the runner: a usage line naming the event files it
// takes as arguments (what a new user looks for first), then the flags.
func TestHelpNamesTheEventFileArguments(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if !strings.HasPrefix(first, "usage: go run ./scripts/local ") || !strings.Contains(first, "[EVENT_FILE ...]") {
		t.Errorf("first line %q: want a usage line with the event-file arguments", first)
	}
	for _, want := range []string{"testdata/events", "-serve", "-real", "-env"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h does not mention %s:\n%s", want, out.String())
		}
	}
}

func TestFlagsAndEventFiles(t *testing.T) {
	o, err := parseFlags([]string{"-env", "A=b", "-keep-state", "x.json", "y.json"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.env["A"] != "b" || !o.keepState || strings.Join(o.files, ",") != "x.json,y.json" {
		t.Errorf("parsed %+v", o)
	}
	if _, err := parseFlags([]string{"-nope"}, &bytes.Buffer{}); err == nil {
		t.Error("an unknown flag is accepted")
	}
}
