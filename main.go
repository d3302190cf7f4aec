// Command start-ecs is a Function Compute 3.0 function (runtime go1) that starts
// ECS instances named by timers, HTTP webhooks, message queues, ECS state-change
// events and CloudMonitor alarms. See README.md and docs/design.md.
//
// This file only wires: configuration from the environment, the ECS client, and
// the runtime loop.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/start-ecs/start-ecs/handler"
	"github.com/start-ecs/start-ecs/handler/aliyun"
)

func main() {
	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
	// One connection pool for ECS and STS. ConfigFromEnv judged both
	// endpoints with the adapter's own check, so a refused one is in
	// cfgErr already.
	ecs, sts, err := aliyun.NewClients(aliyun.Options{Endpoint: cfg.ECSEndpoint}, cfg.STSEndpoint)
	if cfgErr == nil && err != nil {
		cfgErr = err
	}
	if cfgErr != nil {
		// Said once at start-up; every invocation then fails with it too.
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("configuration", "message", cfgErr.Error())
	}
	h := handler.New(cfg, cfgErr, ecs, os.Stdout)
	h.SetSTS(sts)

	// The SDK fails a lifecycle invocation whose hook was never registered, so
	// each hook s.yaml may configure is registered, doing nothing: the function
	// keeps no state that would need warming or flushing.
	nothing := func(context.Context) {}
	fc.RegisterInitializerFunction(nothing)
	fc.RegisterPreFreezeFunction(nothing)
	fc.RegisterPreStopFunction(nothing)

	fc.Start(h.Handle)
}
