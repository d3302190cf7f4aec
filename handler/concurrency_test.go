package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// One Handler serves concurrent invocations (the runtime SDK runs each in its
// own goroutine): every answer is its own, and -race finds no shared state.
func TestConcurrentInvocationsShareNothing(t *testing.T) {
	all := ecsapitest.IDs(20, "k")
	fl := ecsapitest.NewFleet(ecsapitest.Stopped(all))
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, fl.ECS())
	errs := make(chan error, len(all))
	var wg sync.WaitGroup
	for i, id := range all {
		wg.Go(func() {
			ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: fmt.Sprintf("req-%d", i),
				Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
			out, err := h.Handle(ctx, []byte(`{"instanceIds":["`+id+`"]}`))
			if err != nil {
				errs <- err
				return
			}
			var r result.Result
			if err := json.Unmarshal(out, &r); err != nil {
				errs <- err
				return
			}
			if r.RequestID != fmt.Sprintf("req-%d", i) || len(r.InstanceResponses.InstanceResponse) != 1 ||
				r.InstanceResponses.InstanceResponse[0].InstanceID != id || r.InstanceResponses.InstanceResponse[0].Outcome != result.Started {
				errs <- fmt.Errorf("%s: %s", id, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := strings.Count(logs.String(), `"msg":"summary"`); n != len(all) {
		t.Fatalf("%d summary lines for %d invocations", n, len(all))
	}
}
