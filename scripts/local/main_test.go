package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/internal/harness"
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

// DESIGN §9: the local runner exits 1 when an invocation returned an error,
// and 2 when anything was an operator mistake (a typo, truncated JSON, a
// payload that is no start request), so that a CI job that sends the
// deployment's timer payloads catches a typo before it ships; a mistake wins
// over an error. Each case runs the real function under the emulators.
func TestExitStatusSaysMistakeOrError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function")
	}
	t.Cleanup(harness.RemoveBuilds)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	timer := func(payload string) string {
		b, _ := json.Marshal(map[string]any{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "morning", "payload": payload})
		return string(b)
	}
	good := write("good.json", timer(`{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"],"dryRun":true}`))
	typo := write("typo.json", timer(`{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`))
	truncated := write("truncated.json", `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001"`)
	cases := []struct {
		name  string
		env   map[string]string
		files []string
		want  int
	}{
		{"valid timer payload", nil, []string{good}, 0},
		{"typo instanceID", nil, []string{good, typo}, 2},
		{"truncated JSON", nil, []string{truncated}, 2},
		{"invocation error (configuration)", map[string]string{"MAX_INSTANCES": "many"}, []string{good}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(c.files, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.env {
				o.env[k] = v
			}
			err = run(o)
			if got := exitStatus(err); got != c.want || (c.want == 1 && !errors.Is(err, errInvocationFailed)) {
				t.Errorf("exit status %d (%v), want %d", got, err, c.want)
			}
		})
	}
	// A mistake and an error in one run: the mistake wins.
	if got := exitStatus(fmt.Errorf("%w; %w", errMistake, errInvocationFailed)); got != 2 {
		t.Errorf("mistake and error: %d, want 2", got)
	}
}

// DESIGN §9 through the local runner: -notify starts the robot emulator,
// points NOTIFY_URLS at its signed DingTalk robot (or at what -env
// NOTIFY_URLS names, {robots} standing for its address) and prints, after
// the result, the message the group gets: for the sample with an unpaid
// instance and a typo, the failed instance with its advice and the
// mistake; the run exits 2 (the mistake).
func TestNotifyPrintsTheGroupsMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function")
	}
	t.Cleanup(harness.RemoveBuilds)
	sample := filepath.Join("..", "..", "testdata", "events", "direct-unpaid-and-typo.json")
	for _, tc := range []struct {
		name string
		env  map[string]string
		kind string
	}{
		{"the runner's DingTalk robot", nil, "[dingtalk]"},
		{"-env NOTIFY_URLS with {robots}", map[string]string{"NOTIFY_URLS": "wecom={robots}/cgi-bin/webhook/send?key=k"}, "[wecom]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags([]string{"-notify", sample}, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.env {
				o.env[k] = v
			}
			var runErr error
			out := captureStdout(t, func() { runErr = run(o) })
			if got := exitStatus(runErr); got != 2 {
				t.Errorf("exit status %d (%v), want 2", got, runErr)
			}
			_, msg, ok := strings.Cut(out, "--- the group's message\n")
			if !ok {
				t.Fatalf("no message printed:\n%s", out)
			}
			for _, want := range []string{tc.kind, "i-bp1nobalance00001", "Failed InsufficientBalance: add funds to the account",
				"direct[1] mistake", "did you mean instanceIds?", "Mistakes 1"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the message lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

// captureStdout runs f with os.Stdout going to a pipe, and returns what it
// wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r)
		done <- b.String()
	}()
	defer func() { os.Stdout = old }()
	f()
	os.Stdout = old
	w.Close()
	return <-done
}

// -at makes a file a timer tick at that time: the FC timer event's
// triggerTime (what a schedule request's window ends at, DESIGN §3.2) is
// set, and a bare payload (scripts/timerpayloads' files) becomes a timer's;
// the function decodes either as a timer event of that time, request intact.
func TestAtMakesATimerTick(t *testing.T) {
	const at = "2027-02-22T08:00:00+08:00"
	want, _ := time.Parse(time.RFC3339, at)
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "timer-start.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{
		"timer event":   sample,
		"bare payload":  []byte(`{"regionId":"cn-hangzhou","schedule":{"every":"5m"}}`),
		"query payload": []byte(`RegionId=cn-hangzhou&InstanceId.1=i-bp67acfmxazb4p0001`),
	} {
		msgs := events.Decode(atTimer(payload, at))
		if len(msgs) != 1 || msgs[0].Trigger != events.Timer || !msgs[0].Time.Equal(want) || msgs[0].Ignored != "" || len(msgs[0].Errors) > 0 {
			t.Errorf("%s: %+v, want a timer tick at %s", name, msgs, at)
		}
	}
	if _, err := parseFlags([]string{"-at", "tomorrow 8am"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-at") {
		t.Errorf("-at with no RFC 3339 time: %v", err)
	}
	o, err := parseFlags([]string{"-at", at, "x.json"}, &bytes.Buffer{})
	if err != nil || o.at != at {
		t.Errorf("-at %s: %+v, %v", at, o, err)
	}
	var help bytes.Buffer
	_, _ = parseFlags([]string{"-h"}, &help)
	if !strings.Contains(help.String(), "-at") || !strings.Contains(help.String(), "triggerTime") {
		t.Errorf("-h does not explain -at:\n%s", help.String())
	}
}

// README.md's "A schedule on the instance itself": its three commands, as
// written — tag an instance (a fleet of one), see it in the preview, see
// the tick start it (DESIGN §3.2) — run through the runner.
func TestREADMEScheduleCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function")
	}
	t.Cleanup(harness.RemoveBuilds)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## A schedule on the instance itself")
	_, block, ok2 := strings.Cut(section, "```bash\n")
	block, _, ok3 := strings.Cut(block, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if !ok || !ok2 || !ok3 || len(lines) != 3 {
		t.Fatalf("README.md has no section of three commands: %q", block)
	}
	dir := t.TempDir()
	fleetJSON, fleetFile, ok := strings.Cut(strings.TrimPrefix(lines[0], "echo '"), "' > ")
	if !ok {
		t.Fatalf("the first command writes no fleet: %s", lines[0])
	}
	local := filepath.Join(dir, filepath.Base(fleetFile))
	if err := os.WriteFile(local, []byte(fleetJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	outs := make([]string, 2)
	for i, line := range lines[1:] {
		line, _, _ = strings.Cut(line, "#")
		args := strings.Fields(line)
		if len(args) < 4 || strings.Join(args[:3], " ") != "go run ./scripts/local" {
			t.Fatalf("not a runner command: %s", line)
		}
		args = args[3:]
		for j, a := range args {
			switch {
			case a == fleetFile:
				args[j] = local
			case strings.HasPrefix(a, "testdata/"):
				args[j] = filepath.Join("..", "..", a)
			}
		}
		o, err := parseFlags(args, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var runErr error
		outs[i] = captureStdout(t, func() { runErr = run(o) })
		if runErr != nil {
			t.Fatalf("%s: %v\n%s", line, runErr, outs[i])
		}
	}
	for _, want := range []string{`"Preview"`, `"i-bpmine0000000001"`, `"2027-02-22T09:30:00+08:00"`, `"2027-02-26T09:30:00+08:00"`} {
		if !strings.Contains(outs[0], want) {
			t.Errorf("the preview lacks %s:\n%s", want, outs[0])
		}
	}
	for _, want := range []string{`"Outcome": "Started"`, `"ScheduledAt": "2027-02-22T09:30:00+08:00"`, `"Due": 1`} {
		if !strings.Contains(outs[1], want) {
			t.Errorf("the tick lacks %s:\n%s", want, outs[1])
		}
	}
}

// docs/local.md's CI example: every timer payload of s.yaml (the
// schedule-tick's included, DESIGN §3.2) sent through the runner exits 0 —
// no mistake, no error.
func TestCIExampleSendsEveryTimerPayload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function")
	}
	t.Cleanup(harness.RemoveBuilds)
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "run", "./scripts/timerpayloads", "-out", dir, "s.yaml")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("timerpayloads: %v\n%s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < 4 || !slices.Contains(files, filepath.Join(dir, "schedule-tick.json")) {
		t.Fatalf("payload files %v (%v), want every timer's, schedule-tick's among them", files, err)
	}
	o, err := parseFlags(files, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	out := captureStdout(t, func() { runErr = run(o) })
	if got := exitStatus(runErr); got != 0 {
		t.Fatalf("exit status %d (%v):\n%s", got, runErr, out)
	}
	if !strings.Contains(out, `"Scheduled": 5`) {
		t.Errorf("the schedule tick read no scheduled instance:\n%s", out)
	}
}
