// Package e2e drives the real start-ecs binary through the FC runtime API
// emulator against the ECS API emulator: every event form, every Outcome, the
// HTTP statuses, chunking, throttling, deadlines, webhook authentication,
// allow-lists, secrets in logs and concurrent invocations.
package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler"
	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

var update = flag.Bool("update", false, "rewrite the golden results in testdata/golden")

var root string

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	root, err = filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Under -race the binary is built with the race detector too: the
	// concurrent invocations below then check the real function for races.
	harness.Race = raceEnabled
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	if _, err := harness.BuildFunction(ctx, root); err != nil {
		fmt.Fprintln(os.Stderr, "build the function:", err)
		os.Exit(1)
	}
	cancel()
	code := m.Run()
	harness.RemoveBuilds()
	os.Exit(code)
}

func fleet(t testing.TB) ecsemu.Fleet {
	t.Helper()
	f, err := ecsemu.LoadFleet(filepath.Join(root, "testdata", "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// start runs the function with env (on top of the harness defaults) and the
// sample fleet.
func start(t testing.TB, env map[string]string, eo ecsemu.Options) *harness.Harness {
	t.Helper()
	return startWith(t, fleet(t), env, eo)
}

// startWith is start with a fleet of the test's own.
func startWith(t testing.TB, fl ecsemu.Fleet, env map[string]string, eo ecsemu.Options) *harness.Harness {
	t.Helper()
	h, err := harness.Start(context.Background(), harness.Options{Root: root, Fleet: fl, Env: env, ECS: eo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		out := h.Fn.Output()
		if strings.Contains(out, "DATA RACE") {
			t.Errorf("the function has a data race:\n%s", out)
		}
		for _, marker := range []string{"Signature=", "SecurityToken=", webhookSecret} {
			if strings.Contains(out, marker) {
				t.Errorf("the function's output contains %.12s…", marker)
			}
		}
		// DESIGN §7: not even a piece of 16 characters of a secret.
		for _, secret := range []string{harness.Role.AccessKeySecret, harness.Role.SecurityToken} {
			for i := 0; i+16 <= len(secret); i++ {
				if strings.Contains(out, secret[i:i+16]) {
					t.Errorf("the function's output contains a piece of a secret (%.6s… at %d)", secret[i:i+16], i)
					break
				}
			}
		}
	})
	return h
}

func invoke(t testing.TB, h *harness.Harness, payload []byte, mod ...func(*fcemu.Invocation)) *harness.Outcome {
	t.Helper()
	inv := fcemu.Invocation{Payload: payload}
	for _, m := range mod {
		m(&inv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := h.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func result(t testing.TB, out *harness.Outcome) hresult.Result {
	t.Helper()
	var r hresult.Result
	if err := out.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// httpAnswer decodes an HTTP trigger answer and its JSON body.
type httpAnswer struct {
	handler.HTTPResponse
	Result hresult.Result
	Error  handler.ErrorBody
}

func httpResult(t testing.TB, out *harness.Outcome) httpAnswer {
	t.Helper()
	var a httpAnswer
	if err := out.Decode(&a.HTTPResponse); err != nil {
		t.Fatal(err)
	}
	if a.StatusCode == 0 {
		t.Fatalf("not an HTTP answer: %s", out.Payload)
	}
	if a.Headers["Content-Type"] == "application/json" {
		_ = json.Unmarshal([]byte(a.Body), &a.Result)
		_ = json.Unmarshal([]byte(a.Body), &a.Error)
	}
	return a
}

func outcomes(r hresult.Result) map[string]hresult.InstanceResult {
	m := map[string]hresult.InstanceResult{}
	for _, ir := range r.InstanceResponses.InstanceResponse {
		m[ir.InstanceID] = ir
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
