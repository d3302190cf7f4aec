// Package harness runs the real start-ecs binary under the FC runtime API
// emulator against the ECS API emulator: what the local runner, the end-to-end
// tests and the benchmarks share.
package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/start-ecs/start-ecs/internal/build"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// Role is the STS credential the emulated function's role hands out; the ECS
// emulator accepts exactly it.
var Role = ecsemu.Credential{ //nolint:gosec // G101: the emulator's fake STS credential, valid nowhere else
	AccessKeyID:     "STS.NUgYrLnoC37mZZCNnAbez2YTL",
	AccessKeySecret: "3dZn9jE4XvYC2eQ7kGmFxhA8TqPbRw1sLo6UyNcVfZiH",
	SecurityToken:   "CAIS8gF1q6Ft5B2yfSjIr5bkKeKDhLlM0bWYd0DVi3c7TUL0aK7q1Dz2IHhMdXFoAO8Yv/42n2lR7P4alq",
}

// Options configure a Harness. Zero values take working defaults.
type Options struct {
	// Root is the module root holding main.go; default: found from the working
	// directory upward.
	Root string
	// Binary is a function binary already built; default: build Root.
	Binary string
	Fleet  ecsemu.Fleet
	// Env is the function's environment (DESIGN §6) on top of the defaults:
	// ECS_ENDPOINT pointing at the emulator and DEFAULT_REGION_ID cn-hangzhou.
	Env map[string]string
	// ECS tunes the emulator (delays, clock); Fleet and Credentials are set here.
	ECS ecsemu.Options
	// Timeout is the function's timeout per invocation (default 60 s).
	Timeout time.Duration
	// RealECS leaves the ECS emulator out: the function talks to ECS_ENDPOINT
	// (or the public endpoint) with Credentials.
	RealECS     bool
	Credentials fcemu.Credentials
}

// Harness is a running function with its emulators.
type Harness struct {
	ECS    *ecsemu.Server // nil with RealECS
	FC     *fcemu.Server
	Fn     *fcemu.Process
	Binary string
}

var buildOnce sync.Map // root → *builtBinary

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// Race makes BuildFunction build with the race detector, so that end-to-end
// tests run with -race check the real binary too (set it before the first build).
var Race bool

// RemoveBuilds deletes the binaries BuildFunction made (call it when done: each
// is tens of MB in the temp directory) and forgets them, so that a later
// BuildFunction builds again rather than hand out a path that is gone.
func RemoveBuilds() {
	buildOnce.Range(func(k, v any) bool {
		if b := v.(*builtBinary); b.path != "" {
			_ = os.RemoveAll(filepath.Dir(b.path))
		}
		buildOnce.Delete(k)
		return true
	})
}

// BuildFunction builds the function at root once per process and returns the
// binary's path.
func BuildFunction(ctx context.Context, root string) (string, error) {
	v, _ := buildOnce.LoadOrStore(root, &builtBinary{})
	b := v.(*builtBinary)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "start-ecs-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "start-ecs")
		// The flags that ship (internal/build), for this machine.
		b.err = build.Function(ctx, root, b.path, build.Options{Race: Race})
	})
	return b.path, b.err
}

// ModuleRoot finds the directory holding go.mod, from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start builds (once) and starts the function with its emulators.
func Start(ctx context.Context, o Options) (*Harness, error) {
	h := &Harness{}
	if o.Binary == "" {
		root := o.Root
		if root == "" {
			var err error
			if root, err = ModuleRoot(); err != nil {
				return nil, err
			}
		}
		bin, err := BuildFunction(ctx, root)
		if err != nil {
			return nil, err
		}
		o.Binary = bin
	}
	h.Binary = o.Binary
	env := map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}
	creds := o.Credentials
	if !o.RealECS {
		eo := o.ECS
		eo.Fleet = o.Fleet
		eo.Credentials = append([]ecsemu.Credential{Role}, eo.Credentials...)
		h.ECS = ecsemu.New(eo)
		h.ECS.Start()
		env["ECS_ENDPOINT"] = h.ECS.URL()
		// The emulator answers STS AssumeRole too (ecsemu.Options.Roles).
		env["STS_ENDPOINT"] = h.ECS.URL()
		creds = fcemu.Credentials{AccessKeyID: Role.AccessKeyID, AccessKeySecret: Role.AccessKeySecret, SecurityToken: Role.SecurityToken}
	}
	for k, v := range o.Env {
		env[k] = v
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	fc, err := fcemu.NewWithConfig(fcemu.Config{FunctionName: "start-ecs", Credentials: creds, Timeout: timeout})
	if err != nil {
		h.Close()
		return nil, err
	}
	h.FC = fc
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	h.Fn, err = fc.StartFunction(ctx, o.Binary, envList)
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Close stops the function and the emulators.
func (h *Harness) Close() {
	if h.FC != nil {
		_ = h.FC.Close()
	}
	if h.ECS != nil {
		h.ECS.Close()
	}
}

// Outcome is one invocation as a caller and the log store see it.
type Outcome struct {
	*fcemu.Result
	// Logs are the function's JSON log lines of this invocation.
	Logs []map[string]any
}

// Invoke sends one invocation and waits for its result and its summary log line.
func (h *Harness) Invoke(ctx context.Context, inv fcemu.Invocation) (*Outcome, error) {
	if inv.RequestID == "" {
		inv.RequestID = fcemu.NewRequestID()
	}
	res, err := h.FC.Invoke(ctx, inv)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Result: res}
	// The lines are written before the result is posted, but are read from the
	// pipe concurrently: wait for the summary, which every invocation writes last.
	_, _ = h.Fn.WaitForLine(5*time.Second, func(l fcemu.Line) bool {
		m, ok := l.JSON()
		return ok && m["requestId"] == inv.RequestID && m["msg"] == "summary"
	})
	out.Logs = h.Fn.Records(inv.RequestID)
	return out, nil
}

// Decode unmarshals the result payload into v (a handler.Result, or an HTTP
// response).
func (o *Outcome) Decode(v any) error {
	if o.IsError {
		return fmt.Errorf("the function returned an error: %s: %s", o.ErrorType, o.ErrorMessage)
	}
	return json.Unmarshal(o.Payload, v)
}

// LogsOf returns the log lines with the given msg.
func (o *Outcome) LogsOf(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range o.Logs {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// EnvList renders env for display, hiding secrets: NOTIFY_URLS holds
// robots' tokens and signing secrets too.
func EnvList(env map[string]string) string {
	var parts []string
	for k, v := range env {
		if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || k == "NOTIFY_URLS" {
			v = "***"
		}
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
