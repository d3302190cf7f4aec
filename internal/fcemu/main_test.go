package fcemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// echoBinary is testdata/echofn, built once for the package by TestMain.
var echoBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fcemu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	echoBinary = filepath.Join(dir, "echofn")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := fcemu.Build(ctx, "testdata/echofn", echoBinary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// echo mirrors testdata/echofn's answer.
type echo struct {
	RequestID       string            `json:"requestId"`
	Payload         string            `json:"payload"`
	AccessKeyID     string            `json:"accessKeyId"`
	AccessKeySecret string            `json:"accessKeySecret"`
	SecurityToken   string            `json:"securityToken"`
	Region          string            `json:"region"`
	AccountID       string            `json:"accountId"`
	RetryCount      int               `json:"retryCount"`
	FunctionName    string            `json:"functionName"`
	Handler         string            `json:"handler"`
	Memory          string            `json:"memory"`
	TimeoutSec      int               `json:"timeoutSec"`
	Qualifier       string            `json:"qualifier"`
	LogProject      string            `json:"logProject"`
	LogStore        string            `json:"logStore"`
	DeadlineMs      int64             `json:"deadlineMs"`
	Env             map[string]string `json:"env"`
	Event           json.RawMessage   `json:"event"`
}

// startEcho starts a server and the echo function against it; both end with
// the test, and the function's output is shown when the test fails.
func startEcho(t *testing.T, cfg fcemu.Config, env ...string) (*fcemu.Server, *fcemu.Process) {
	t.Helper()
	s, err := fcemu.NewWithConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	p, err := s.StartFunction(context.Background(), echoBinary, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function output:\n%s", p.Output())
		}
	})
	return s, p
}

func invoke(t *testing.T, s *fcemu.Server, inv fcemu.Invocation) *fcemu.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Invoke(ctx, inv)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return res
}

func decodeEcho(t *testing.T, b []byte) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decoding echo %q: %v", b, err)
	}
	return e
}
