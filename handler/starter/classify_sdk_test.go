package starter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// The adapter's errors as the starter classifies them.

// The fault matrix: a call that outlives its own read timeout,
// while the invocation still has time, was reported as DeadlineExceeded, "the
// invocation's deadline came before ECS answered", which sends an operator to
// raise the function's timeout. It is a network error naming the call's
// timeouts; the invocation's own deadline is still DeadlineExceeded.
func TestSDKCallTimeoutIsNotTheInvocationDeadline(t *testing.T) {
	creds := ecsapi.Credentials{AccessKeyID: "LTAI5tPlainKeyForTests", AccessKeySecret: "plainSecretOfTheTestAccount42"}
	srv := ecsemu.New(ecsemu.Options{
		Fleet:       ecsemu.Fleet{Instances: []ecsemu.Instance{{InstanceID: "i-sdk00", RegionID: "cn-hangzhou", Status: ecsemu.Stopped}}},
		Credentials: []ecsemu.Credential{{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret}},
	})
	srv.Start()
	t.Cleanup(srv.Close)
	srv.SetFaults(ecsemu.Faults{Latency: 500 * time.Millisecond})
	e, err := aliyun.NewECS(aliyun.Options{Endpoint: srv.URL(), ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	in := ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst}
	_, err = e.StartInstances(context.Background(), creds, in)
	v := classify(err)
	if v.Class != transient || v.Code != result.CodeNetworkError || !strings.Contains(v.Message, "timeout (connect 5s, read 100ms)") {
		t.Fatalf("a call's timeout: %s %q (%v)", v.Code, v.Message, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.StartInstances(ctx, creds, in)
	if v := classify(err); v.Code != result.CodeDeadlineExceeded {
		t.Fatalf("the invocation's deadline: %s %q", v.Code, v.Message)
	}
}

// DESIGN §7: an error of no known type is reported with the secrets
// removed by the one remover (ecsapi.RedactSecrets), whatever form they
// take: a signed URL's query, a JSON SecurityToken.
func TestUnknownErrorIsRedactedByTheOneRemover(t *testing.T) {
	for _, text := range []string{
		`decode: {"SecurityToken": "CAIS-never-shown", "x": 1}`,
		"Get https://ecs.cn-hangzhou.aliyuncs.com/?Signature=never-shown&SecurityToken=CAIS-never-shown: EOF",
	} {
		v := classify(errors.New(text))
		if strings.Contains(v.Message, "never-shown") || v.Message != "ECS call failed: "+ecsapi.RedactSecrets(text) {
			t.Errorf("classify(%q).Message = %q", text, v.Message)
		}
	}
}
