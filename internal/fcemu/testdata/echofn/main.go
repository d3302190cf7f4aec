// Command echofn is the function the fcemu tests run: a real go1 function on
// fc-runtime-go-sdk v0.3.1 that reports what reached it (payload, request ID,
// credentials, deadline, function metadata) so that the tests can check the
// emulator end to end.
//
// A JSON payload (or, for an HTTP trigger event, its body) may carry commands:
//
//	{"fail": "msg"}           return an error with this message
//	{"failUntilRetry": N}     return an error while x-fc-retry-count < N
//	{"sleepMs": N}            sleep before answering (ignores the deadline)
//	{"respond": <any JSON>}   answer exactly this value
//
// Otherwise it answers the echo; for an HTTP trigger event, wrapped in an HTTP
// trigger response with the event itself in the echo.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type command struct {
	Fail           string          `json:"fail"`
	FailUntilRetry int             `json:"failUntilRetry"`
	SleepMs        int             `json:"sleepMs"`
	Respond        json.RawMessage `json:"respond"`
}

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
	Event           json.RawMessage   `json:"event,omitempty"`
}

// httpEvent holds the parts of an FC 3.0 HTTP trigger event this function reads.
type httpEvent struct {
	Version         string          `json:"version"`
	Body            string          `json:"body"`
	IsBase64Encoded bool            `json:"isBase64Encoded"`
	RequestContext  json.RawMessage `json:"requestContext"`
}

var logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))

func handle(ctx context.Context, payload []byte) (any, error) {
	fctx, ok := fccontext.FromContext(ctx)
	if !ok {
		return nil, errors.New("no FC context")
	}
	logger.Info("echo", "requestId", fctx.RequestID, "retryCount", fctx.RetryCount)

	cmdBytes := payload
	var ev httpEvent
	isHTTP := json.Unmarshal(payload, &ev) == nil && ev.Version == "v1" && len(ev.RequestContext) > 0
	if isHTTP {
		cmdBytes = []byte(ev.Body)
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return nil, fmt.Errorf("event body is not base64: %w", err)
			}
			cmdBytes = b
		}
	}
	var cmd command
	_ = json.Unmarshal(cmdBytes, &cmd) // a body that is no command is just echoed

	if cmd.SleepMs > 0 {
		time.Sleep(time.Duration(cmd.SleepMs) * time.Millisecond)
	}
	if cmd.Fail != "" {
		return nil, errors.New(cmd.Fail)
	}
	if fctx.RetryCount < cmd.FailUntilRetry {
		return nil, fmt.Errorf("failing attempt with retry count %d", fctx.RetryCount)
	}
	if len(cmd.Respond) > 0 {
		return cmd.Respond, nil
	}

	e := echo{
		RequestID:       fctx.RequestID,
		Payload:         string(payload),
		AccessKeyID:     fctx.Credentials.AccessKeyId,
		AccessKeySecret: fctx.Credentials.AccessKeySecret,
		SecurityToken:   fctx.Credentials.SecurityToken,
		Region:          fctx.Region,
		AccountID:       fctx.AccountId,
		RetryCount:      fctx.RetryCount,
		FunctionName:    fctx.Function.Name,
		Handler:         fctx.Function.Handler,
		Memory:          fctx.Function.Memory,
		TimeoutSec:      fctx.Function.Timeout,
		Qualifier:       fctx.Service.Qualifier,
		LogProject:      fctx.Service.LogProject,
		LogStore:        fctx.Service.LogStore,
		Env:             map[string]string{},
	}
	if d, ok := ctx.Deadline(); ok {
		e.DeadlineMs = d.UnixMilli()
	}
	for _, k := range []string{"FC_FUNCTION_NAME", "FC_REGION", "FC_ACCOUNT_ID", "ECHOFN_MARK", "ALIBABA_CLOUD_ACCESS_KEY_ID"} {
		if v, ok := os.LookupEnv(k); ok {
			e.Env[k] = v
		}
	}
	if !isHTTP {
		return e, nil
	}
	e.Event = payload
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"statusCode":      200,
		"headers":         map[string]string{"Content-Type": "application/json", "X-Echo": "1"},
		"isBase64Encoded": false,
		"body":            string(body),
	}, nil
}

func main() {
	fc.RegisterInitializerFunction(func(ctx context.Context) {
		fctx, _ := fccontext.FromContext(ctx)
		logger.Info("initializer", "requestId", fctx.RequestID)
	})
	fc.RegisterPreStopFunction(func(ctx context.Context) {
		fctx, _ := fccontext.FromContext(ctx)
		logger.Info("preStop", "requestId", fctx.RequestID)
	})
	// No preFreeze hook: the tests check that invoking an unregistered hook
	// fails that invocation, as the SDK does.
	fc.Start(handle)
}
