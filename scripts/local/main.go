// Command local runs start-ecs on this machine: it builds the function, runs it
// under the FC runtime API emulator against the ECS API emulator (a fleet from
// testdata/fleet.json), and prints the result and the log lines of each event
// file. No cloud account is needed.
//
//	go run ./scripts/local testdata/events/timer.json     one or more events
//	go run ./scripts/local                                 every sample in testdata/events
//	go run ./scripts/local -serve 127.0.0.1:9000           an HTTP trigger for curl or a webhook sender
//	go run ./scripts/local -real testdata/events/direct.json   the real ECS API, dry run
//
// Flags: -env KEY=VALUE (repeatable) sets the function's configuration
// (DESIGN §6); -fleet FILE picks another fleet; -real -start really starts
// instances with ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET (and SECURITY_TOKEN).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// localSecret is the WEBHOOK_SECRET of local runs, so that HTTP samples and curl
// authenticate; it protects nothing.
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

func main() {
	env := envFlags{}
	fleetPath := flag.String("fleet", "testdata/fleet.json", "the ECS emulator's fleet")
	serve := flag.String("serve", "", "listen on this address (e.g. 127.0.0.1:9000) as the function's HTTP trigger")
	real := flag.Bool("real", false, "talk to the real ECS API with ALIBABA_CLOUD_* credentials (dry run unless -start)")
	start := flag.Bool("start", false, "with -real: really start instances")
	timeout := flag.Duration("timeout", 60*time.Second, "the function's timeout per invocation")
	flag.Var(env, "env", "KEY=VALUE of the function's environment (repeatable)")
	flag.Parse()

	if err := run(*fleetPath, *serve, *real, *start, *timeout, env, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(fleetPath, serve string, real, start bool, timeout time.Duration, env envFlags, files []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	fnEnv := map[string]string{
		// The samples carry fixed timestamps from the past: without this they
		// would all be ignored as expired.
		"MAX_EVENT_AGE":  "0",
		"WEBHOOK_SECRET": localSecret,
		"RESTART_TAG":    "auto-restart=true",
	}
	opts := harness.Options{Root: root, Timeout: timeout}
	if real {
		id, secret := os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
		if id == "" || secret == "" {
			return fmt.Errorf("-real needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
		}
		opts.RealECS = true
		opts.Credentials = fcemu.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}
		fnEnv["DRY_RUN_ONLY"] = fmt.Sprint(!start)
		delete(fnEnv, "RESTART_TAG")
		if ep := os.Getenv("ECS_ENDPOINT"); ep != "" {
			fnEnv["ECS_ENDPOINT"] = ep
		}
	} else {
		fleet, err := ecsemu.LoadFleet(filepath.Join(root, fleetPath))
		if err != nil {
			return err
		}
		opts.Fleet = fleet
	}
	for k, v := range env {
		fnEnv[k] = v
	}
	opts.Env = fnEnv

	fmt.Fprintln(os.Stderr, "building the function and starting the emulators …")
	h, err := harness.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer h.Close()
	if h.ECS != nil {
		fmt.Fprintf(os.Stderr, "ECS emulator at %s with %d instances (%s); function env: %s\n", h.ECS.URL(), len(opts.Fleet.Instances), fleetPath, harness.EnvList(fnEnv))
	}

	if serve != "" {
		return serveHTTP(ctx, h, serve, timeout)
	}
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(root, "testdata", "events", "*.json"))
		sort.Strings(files)
	}
	for _, f := range files {
		if err := invokeFile(ctx, h, f); err != nil {
			return err
		}
	}
	return nil
}

func invokeFile(ctx context.Context, h *harness.Harness, path string) error {
	payload, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Printf("==> %s\n", path)
	out, err := h.Invoke(ctx, fcemu.Invocation{Payload: payload})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if out.IsError {
		fmt.Printf("error (%s): %s\n", out.ErrorType, out.ErrorMessage)
	} else {
		fmt.Println(pretty(out.Payload))
	}
	fmt.Println("--- log lines")
	for _, l := range out.Logs {
		b, _ := json.Marshal(l)
		fmt.Println(string(b))
	}
	fmt.Println()
	return nil
}

// pretty indents a JSON answer; an HTTP trigger answer's body is shown decoded.
func pretty(payload []byte) string {
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if json.Unmarshal(payload, &resp) == nil && resp.StatusCode != 0 {
		var v any
		body := resp.Body
		if json.Unmarshal([]byte(resp.Body), &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			body = string(b)
		}
		return fmt.Sprintf("HTTP %d %v\n%s", resp.StatusCode, resp.Headers, body)
	}
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return string(payload)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func serveHTTP(ctx context.Context, h *harness.Harness, addr string, timeout time.Duration) error {
	gw := fcemu.NewHTTPGateway(h.FC, fcemu.GatewayOptions{Timeout: timeout})
	defer gw.Close()
	srv := &http.Server{Addr: addr, Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		for l := range logLines(ctx, h) {
			fmt.Println(l)
		}
	}()
	fmt.Fprintf(os.Stderr, `HTTP trigger listening on http://%[1]s (WEBHOOK_SECRET=%[2]s); try:
  curl -s -H 'Authorization: Bearer %[2]s' -d '{"instanceIds":["i-bp67acfmxazb4p0001"]}' http://%[1]s/
Ctrl-C stops.
`, addr, localSecret)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// logLines streams the function's JSON log lines as they come.
func logLines(ctx context.Context, h *harness.Harness) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		seen := 0
		for {
			lines := h.Fn.Lines()
			for _, l := range lines[seen:] {
				if _, ok := l.JSON(); ok {
					select {
					case ch <- l.Text:
					case <-ctx.Done():
						return
					}
				}
			}
			seen = len(lines)
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return ch
}
