// Command floor is the floor function of the benchmarks (see package benchfn):
// the empty function plus a validator with one custom rule and an ECS SDK
// client, both made at start-up, and an invocation that decodes
// {"instanceIds":[…]}, validates it and calls StartInstances once. No function
// that starts ECS instances with the pinned libraries does less.
//
// ECS_ENDPOINT (http://host:port) and DEFAULT_REGION_ID name the ECS API, as
// for start-ecs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/go-playground/validator/v10"
)

type request struct {
	InstanceIDs []string `json:"instanceIds" validate:"required,max=100,dive,instance_id"`
}

// invocationCreds hands the SDK client, made once at start-up, the
// credentials of the invocation under way.
type invocationCreds struct {
	mu sync.Mutex
	c  credentials.Credentials
}

func (p *invocationCreds) GetCredentials() (*credentials.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	return &c, nil
}

func (p *invocationCreds) GetProviderName() string { return "invocation" }

func (p *invocationCreds) set(c fccontext.Credentials) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c = credentials.Credentials{AccessKeyId: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken, ProviderName: "invocation"}
}

func main() {
	v := validator.New()
	if err := v.RegisterValidation("instance_id", func(fl validator.FieldLevel) bool {
		return strings.HasPrefix(fl.Field().String(), "i-")
	}); err != nil {
		panic(err)
	}
	region := os.Getenv("DEFAULT_REGION_ID")
	if region == "" {
		region = "cn-hangzhou"
	}
	scheme, host := "https", "ecs."+region+".aliyuncs.com"
	if u, err := url.Parse(os.Getenv("ECS_ENDPOINT")); err == nil && u.Host != "" {
		scheme, host = strings.ToUpper(u.Scheme), u.Host
	}
	creds := &invocationCreds{}
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false
	client, err := ecs.NewClientWithOptions(region, cfg, creds)
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex // one SDK client is not safe for concurrent calls
	fc.Start(func(ctx context.Context, event json.RawMessage) (*ecs.StartInstancesResponse, error) {
		var req request
		if err := json.Unmarshal(event, &req); err != nil {
			return nil, err
		}
		if err := v.Struct(req); err != nil {
			return nil, err
		}
		fctx, ok := fccontext.FromContext(ctx)
		if !ok {
			return nil, errors.New("no invocation context")
		}
		mu.Lock()
		defer mu.Unlock()
		creds.set(fctx.Credentials)
		call := ecs.CreateStartInstancesRequest()
		call.Scheme, call.Domain, call.RegionId = scheme, host, region
		call.InstanceId = &req.InstanceIDs
		call.BatchOptimization = "SuccessFirst"
		return client.StartInstances(call)
	})
}
