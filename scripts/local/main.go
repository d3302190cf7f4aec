// Command local runs start-ecs on this machine: it builds the function, runs it
// under the FC runtime API emulator against the ECS API emulator (a fleet from
// testdata/fleet.json), and prints the result and the log lines of each event
// file. No cloud account is needed.
//
//	go run ./scripts/local testdata/events/timer-start.json     one or more events
//	go run ./scripts/local                                     every sample in testdata/events
//	go run ./scripts/local -serve 127.0.0.1:9000               an HTTP trigger for curl or a webhook sender
//	go run ./scripts/local -real testdata/events/direct-start.json   the real ECS API, dry run
//	go run ./scripts/local -notify testdata/events/direct-unpaid-and-typo.json   and the robot's message
//
// Each event file meets the fleet as the fleet file describes it (-keep-state
// lets one file see what the ones before it did). -env KEY=VALUE (repeatable)
// sets the function's configuration (DESIGN §6); -fleet FILE picks another
// fleet; -start-delay sets how long a started instance of the emulator stays
// Starting before it is Running (3 s, so that a request with wait shows its
// polls); -at TIME makes each file a timer tick at TIME (a timer event's
// triggerTime set, any other file sent as a timer's payload), the moment a
// schedule request's window ends; -real -start really starts instances with
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET (and SECURITY_TOKEN).
//
// -notify starts the chat-robot emulator (internal/robotemu) and points
// NOTIFY_URLS at a DingTalk robot of it that checks the signature, unless
// -env NOTIFY_URLS=… names robots of its own ({robots} in it stands for the
// emulator's address, e.g. wecom={robots}/cgi-bin/webhook/send?key=k); after
// each result it prints the messages the group got (robotemu.Render), or
// the robot's refusal. NOTIFY_ON keeps its default, problems, unless -env
// sets it.
//
// The exit status (DESIGN §9) is 2 when any invocation logged an operator
// mistake (a typo such as instanceID, truncated JSON, a payload that is no
// start request, a timer's tags that find nothing) or the command line is
// wrong; else 1 when any invocation returned an error (an Unfinished
// instance, a configuration error) or the runner itself failed; else 0. A
// mistake wins over an error: it is what a CI job that sends the
// deployment's timer payloads is there to catch, and no retry mends it.
// `go run` itself exits 1 whatever status the program exits with: to see 2,
// build the runner first:
//
//	go build -o /tmp/local ./scripts/local && /tmp/local testdata/events/direct-unpaid-and-typo.json; echo $?
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// localSecret is the WEBHOOK_SECRET of local runs, the one the HTTP samples in
// testdata/events carry; it protects nothing.
const localSecret = "change-me-webhook-secret"

type envFlags map[string]string

func (e envFlags) String() string { return "" }
func (e envFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("-env wants KEY=VALUE, got %q", s)
	}
	e[k] = v
	return nil
}

type options struct {
	fleet     string
	serve     string
	real      bool
	start     bool
	keepState bool
	timeout   time.Duration
	// startDelay is the emulator's Starting → Running delay.
	startDelay time.Duration
	// at, when set (RFC 3339), makes every event file a timer tick at that
	// time (atTimer).
	at    string
	env   envFlags
	files []string
	// notify starts the robot emulator and prints what the group got.
	notify bool
}

// errInvocationFailed: some invocation returned an error (already printed).
var errInvocationFailed = errors.New("an invocation returned an error (see above)")

// errMistake: some invocation logged an operator mistake (DESIGN §9).
var errMistake = errors.New("an invocation logged an operator mistake (an ERROR line with mistake true, see above)")

// usage is what -h prints before the flags: the event files are the
// arguments, and how to call it with none.
const usage = `usage: go run ./scripts/local [flags] [EVENT_FILE ...]

Runs start-ecs on this machine under the FC runtime API emulator against the
ECS API emulator, and prints the result and the log lines of each EVENT_FILE (a
payload as a trigger sends it; testdata/events holds one per event form).
Without EVENT_FILE, every sample in testdata/events runs.

  go run ./scripts/local testdata/events/timer-start.json
  go run ./scripts/local -serve 127.0.0.1:9000
  go run ./scripts/local -real testdata/events/direct-start.json

flags:
`

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag package has said what is wrong
	}
	err = run(o)
	harness.RemoveBuilds() // main's, so that run can be called again (tests)
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
	}
	os.Exit(exitStatus(err))
}

// exitStatus is the runner's exit status for run's error: 2 for an
// operator mistake (it wins over an invocation's error), 1 for any other
// error, 0 for none.
func exitStatus(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errMistake):
		return 2
	default:
		return 1
	}
}

// parseFlags reads the command line; -h prints usage and the flags to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	o := options{env: envFlags{}}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.fleet, "fleet", "testdata/fleet.json", "the ECS emulator's fleet (relative to the working directory or the module root)")
	fs.StringVar(&o.serve, "serve", "", "listen on this address (e.g. 127.0.0.1:9000) as the function's HTTP trigger")
	fs.BoolVar(&o.real, "real", false, "talk to the real ECS API with ALIBABA_CLOUD_* credentials (dry run unless -start)")
	fs.BoolVar(&o.start, "start", false, "with -real: really start instances")
	fs.BoolVar(&o.keepState, "keep-state", false, "let each event file see the fleet as the files before it left it")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "the function's timeout per invocation")
	fs.DurationVar(&o.startDelay, "start-delay", 3*time.Second, "how long a started instance of the emulator stays Starting before it is Running")
	fs.Var(o.env, "env", "KEY=VALUE of the function's environment (repeatable)")
	fs.BoolVar(&o.notify, "notify", false, "start the chat-robot emulator, point NOTIFY_URLS at a signed DingTalk robot of it (or -env NOTIFY_URLS=…, {robots} standing for its address) and print each message the group gets")
	fs.StringVar(&o.at, "at", "", "RFC 3339 time (2027-02-22T08:00:00+08:00) of a timer tick: a timer event file's triggerTime is set to it, any other file is sent as a timer's payload (as scripts/timerpayloads writes them) fired then; a schedule request's window ends there")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.at != "" {
		if _, err := time.Parse(time.RFC3339, o.at); err != nil {
			return o, fmt.Errorf("-at wants an RFC 3339 time like 2027-02-22T08:00:00+08:00, got %q", o.at)
		}
	}
	o.files = fs.Args()
	return o, nil
}

func run(o options) error {
	if o.start && !o.real {
		return errors.New("-start goes with -real (the emulator's fleet is always really started)")
	}
	if o.serve != "" && len(o.files) > 0 {
		return errors.New("-serve takes no event files: send requests to it instead")
	}
	// SIGTERM too: `go run … &` then `kill` reaches this process only if it
	// listens for it; and a parent that goes away ends it (watchParent).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = watchParent(ctx)

	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	for _, f := range o.files {
		if _, err := os.Stat(f); err != nil {
			return err // before the build, not after
		}
	}
	opts, fleet, err := harnessOptions(o, root)
	if err != nil {
		return err
	}
	var robots *robotemu.Server
	if o.notify {
		robots = startRobots(opts.Env)
		defer robots.Close()
	}

	fmt.Fprintln(os.Stderr, "building the function and starting the emulators …")
	h, err := harness.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer h.Close()
	if h.ECS != nil {
		fmt.Fprintf(os.Stderr, "ECS emulator at %s with %d instances (%s); function env: %s\n", h.ECS.URL(), len(fleet.Instances), o.fleet, harness.EnvList(opts.Env))
	} else {
		fmt.Fprintf(os.Stderr, "real ECS API; function env: %s\n", harness.EnvList(opts.Env))
	}

	if o.serve != "" {
		return serveHTTP(ctx, h, o.serve, o.timeout, opts.Env)
	}
	return invokeFiles(ctx, h, eventFiles(root, o.files), fleet, o.keepState, robots, o.at)
}

// The local robot of -notify: a DingTalk robot that checks the signature
// its secret asks for. Neither protects anything.
const (
	localRobotToken  = "local-robot"
	localRobotSecret = "SEC-local-robot-not-a-secret" //nolint:gosec // G101: the local emulator's robot, valid nowhere else
)

// startRobots starts the robot emulator for -notify and points env's
// NOTIFY_URLS at it: at its signed DingTalk robot, or, when -env set
// NOTIFY_URLS, at what that names, {robots} standing for the emulator's
// address. Robots it does not know are created as they are first sent to
// (robotemu.Options.Open), unsigned.
func startRobots(env map[string]string) *robotemu.Server {
	robots := robotemu.New(robotemu.Options{Open: true, Robots: []robotemu.Robot{
		{Kind: robotemu.DingTalk, Token: localRobotToken, Secret: localRobotSecret},
	}})
	robots.Start()
	if urls, ok := env["NOTIFY_URLS"]; ok {
		env["NOTIFY_URLS"] = strings.ReplaceAll(urls, "{robots}", robots.URL())
	} else {
		env["NOTIFY_URLS"] = "dingtalk=" + robots.URLFor(robotemu.DingTalk, localRobotToken) + "#" + localRobotSecret
	}
	fmt.Fprintf(os.Stderr, "robot emulator at %s\n", robots.URL())
	return robots
}

// printMessages prints the messages robots received from the first-th on,
// as the group sees them, and returns how many there are now.
func printMessages(robots *robotemu.Server, first int) int {
	if robots == nil {
		return first
	}
	msgs := robots.Messages()
	if len(msgs) == first {
		fmt.Println("--- no message to the robots (NOTIFY_ON, or NOTIFY_URLS points elsewhere)")
	}
	for _, m := range msgs[first:] {
		if m.Accepted {
			fmt.Println("--- the group's message")
		} else {
			fmt.Printf("--- the robot refused the message (HTTP %d, code %s)\n", m.Status, m.Code)
		}
		fmt.Print(robotemu.Render(m))
	}
	return len(msgs)
}

// harnessOptions is how the function runs: against the real ECS API (-real)
// or the emulator's fleet, with the function's environment.
func harnessOptions(o options, root string) (harness.Options, ecsemu.Fleet, error) {
	fnEnv := map[string]string{
		// The samples carry fixed timestamps from the past: without this they
		// would all be ignored as expired.
		"MAX_EVENT_AGE":  "0",
		"WEBHOOK_SECRET": localSecret,
		"RESTART_TAG":    "auto-restart=true",
	}
	opts := harness.Options{Root: root, Timeout: o.timeout}
	var fleet ecsemu.Fleet
	var err error
	if o.real {
		err = realECS(&opts, fnEnv)
	} else {
		fleet, err = emulatedECS(&opts, fnEnv, findFile(root, o.fleet), o.startDelay)
	}
	if err != nil {
		return opts, fleet, err
	}
	for k, v := range o.env {
		fnEnv[k] = v
	}
	if o.real {
		// After -env: only -start lifts the dry run against the real cloud.
		fnEnv["DRY_RUN_ONLY"] = fmt.Sprint(!o.start)
	}
	opts.Env = fnEnv
	return opts, fleet, nil
}

// realECS points the function at the real ECS API with the caller's
// ALIBABA_CLOUD_* credentials.
func realECS(opts *harness.Options, fnEnv map[string]string) error {
	id, secret := os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		return errors.New("-real needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	opts.RealECS = true
	opts.Credentials = fcemu.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}
	delete(fnEnv, "RESTART_TAG")
	if ep := os.Getenv("ECS_ENDPOINT"); ep != "" {
		fnEnv["ECS_ENDPOINT"] = ep
	}
	return nil
}

// emulatedECS gives the function the ECS emulator with the fleet of the
// file fleetFile.
func emulatedECS(opts *harness.Options, fnEnv map[string]string, fleetFile string, startDelay time.Duration) (ecsemu.Fleet, error) {
	fleet, err := ecsemu.LoadFleet(fleetFile)
	if err != nil {
		return fleet, err
	}
	opts.Fleet = fleet
	// The fleet's roles of other accounts (answered by the emulator's
	// STS) may be assumed, as ALLOWED_ROLE_ARNS would allow them.
	var roles []string
	for _, r := range fleet.Roles {
		roles = append(roles, r.Arn)
	}
	if len(roles) > 0 {
		fnEnv["ALLOWED_ROLE_ARNS"] = strings.Join(roles, ",")
	}
	opts.ECS.StartDelay = startDelay
	if startDelay <= 0 {
		opts.ECS.StartDelay = time.Millisecond // the emulator reads 0 as its default, negative as never
	}
	return fleet, nil
}

// eventFiles is the files named, or every sample in testdata/events.
func eventFiles(root string, files []string) []string {
	if len(files) > 0 {
		return files
	}
	all, _ := filepath.Glob(filepath.Join(root, "testdata", "events", "*"))
	for _, f := range all {
		if filepath.Ext(f) != ".md" {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files
}

// invokeFiles sends each event file in turn, each meeting the fleet as the
// fleet file describes it unless keepState.
func invokeFiles(ctx context.Context, h *harness.Harness, files []string, fleet ecsemu.Fleet, keepState bool, robots *robotemu.Server, at string) error {
	failed, mistaken := false, false
	seen := 0
	for i, f := range files {
		if i > 0 && h.ECS != nil && !keepState {
			for _, in := range fleet.Instances {
				if err := h.ECS.SetInstance(in); err != nil {
					return err
				}
			}
		}
		ok, mistake, err := invokeFile(ctx, h, f, at)
		if err != nil {
			return err
		}
		seen = printMessages(robots, seen)
		failed = failed || !ok
		mistaken = mistaken || mistake
	}
	switch {
	case mistaken && failed:
		return fmt.Errorf("%w; %w", errMistake, errInvocationFailed)
	case mistaken:
		return errMistake
	case failed:
		return errInvocationFailed
	}
	return nil
}

// findFile takes a path as given when it exists (absolute, or relative to the
// working directory), else relative to the module root.
func findFile(root, path string) string {
	if _, err := os.Stat(path); err == nil || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// watchParent ends ctx when the process that started this one goes away (a
// shell that ran `go run … &` and was closed, or a killed `go run`).
func watchParent(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	parent := os.Getppid()
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
				if os.Getppid() != parent {
					return
				}
			}
		}
	}()
	return ctx
}

// invokeFile sends one event file; ok is false when the function returned an
// error, mistake is true when its summary line counts an operator mistake.
func invokeFile(ctx context.Context, h *harness.Harness, path, at string) (ok, mistake bool, err error) {
	payload, err := os.ReadFile(path) //nolint:gosec // G304: sending the event file the user names is the job
	if err != nil {
		return false, false, err
	}
	fmt.Printf("==> %s\n", path)
	if strings.HasSuffix(path, ".json") && !json.Valid(payload) {
		var se *json.SyntaxError
		if err := json.Unmarshal(payload, new(any)); errors.As(err, &se) {
			fmt.Printf("warning: %s is not valid JSON (%v at byte %d); sending it as it is\n", path, se, se.Offset)
		} else {
			fmt.Printf("warning: %s is not valid JSON; sending it as it is\n", path)
		}
	}
	if at != "" {
		payload = atTimer(payload, at)
	}
	out, err := h.Invoke(ctx, fcemu.Invocation{Payload: payload})
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", path, err)
	}
	if out.IsError {
		fmt.Printf("error (%s): %s\n", out.ErrorType, out.ErrorMessage)
	} else {
		fmt.Println(pretty(out.Payload))
	}
	fmt.Println("--- log lines")
	for _, l := range h.Fn.Lines() {
		if m, isJSON := l.JSON(); isJSON && m["requestId"] == out.RequestID {
			fmt.Println(l.Text) // as the function wrote it, keys in its order
			if n, _ := m["mistakes"].(float64); m["msg"] == "summary" && n > 0 {
				mistake = true
			}
		}
	}
	fmt.Println()
	return !out.IsError, mistake, nil
}

// pretty indents a JSON answer, keeping its key order; an HTTP trigger answer's
// body is shown decoded.
// atTimer is payload as a timer tick at at (-at): a timer event (an object
// with triggerTime and triggerName, as FC sends it) with its triggerTime
// set; anything else becomes the payload of a timer event fired at at.
func atTimer(payload []byte, at string) []byte {
	var ev map[string]json.RawMessage
	if json.Unmarshal(payload, &ev) == nil && ev["triggerTime"] != nil && ev["triggerName"] != nil {
		ev["triggerTime"], _ = json.Marshal(at)
		b, _ := json.Marshal(ev)
		return b
	}
	b, _ := json.Marshal(struct {
		TriggerTime string `json:"triggerTime"`
		TriggerName string `json:"triggerName"`
		Payload     string `json:"payload"`
	}{at, "local-at", string(payload)})
	return b
}

func pretty(payload []byte) string {
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if json.Unmarshal(payload, &resp) == nil && resp.StatusCode != 0 {
		return fmt.Sprintf("HTTP %d %v\n%s", resp.StatusCode, resp.Headers, indent([]byte(resp.Body)))
	}
	return indent(payload)
}

func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

func serveHTTP(ctx context.Context, h *harness.Harness, addr string, timeout time.Duration, env map[string]string) error {
	// Listen first: the banner below promises a port that is really ours.
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("-serve %s: %w", addr, err)
	}
	gw := fcemu.NewHTTPGateway(h.FC, fcemu.GatewayOptions{Timeout: timeout})
	defer gw.Close()
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		for line := range logLines(ctx, h) {
			fmt.Println(line)
		}
	}()
	url := "http://" + l.Addr().String() + "/"
	body := `'{"instanceIds":["i-bp67acfmxazb4p0001"]}'`
	var hint string
	switch {
	case strings.EqualFold(env["HTTP_AUTH"], "trigger"):
		hint = fmt.Sprintf("curl -s -d %s %s", body, url)
	case env["WEBHOOK_SECRET"] != "":
		hint = fmt.Sprintf("curl -s -H 'Authorization: Bearer %s' -d %s %s", env["WEBHOOK_SECRET"], body, url)
	default:
		hint = fmt.Sprintf("curl -s -d %s %s   (401: no WEBHOOK_SECRET nor HTTP_AUTH=trigger)", body, url)
	}
	fmt.Fprintf(os.Stderr, "HTTP trigger listening on %s; try:\n  %s\nCtrl-C stops.\n", url, hint)
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logLines streams the function's JSON log lines as they come. The process
// keeps none of them: a serve session may run for hours.
func logLines(ctx context.Context, h *harness.Harness) <-chan string {
	lines := h.Fn.Follow(ctx)
	h.Fn.Forget()
	ch := make(chan string)
	go func() {
		defer close(ch)
		for l := range lines {
			if _, ok := l.JSON(); !ok {
				continue
			}
			select {
			case ch <- l.Text:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
