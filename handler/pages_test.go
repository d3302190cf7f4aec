package handler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// DESIGN §3.1 tags: "at most ⌈MAX_INSTANCES / 100⌉ + 2 pages are read: an
// ECS that keeps answering pages past that — empty ones included — ends the
// selection: nothing of it is started, it is one Ignored entry with Code
// TooManyPages naming the region and tags, and the invocation fails as an
// Unfinished one does." Before: empty pages each with a fresh NextToken made
// 19,111 DescribeInstances calls in 5 s. Here ECS answers pages that each
// hold one Stopped instance, or none, and always name another.
func TestTagSelectionReadsAtMostItsPages(t *testing.T) {
	for _, tc := range []struct {
		maxInstances string
		pages        int
		withInstance bool
	}{
		{"1000", 12, false},
		{"250", 5, false},
		{"1", 3, true},
		{"1000", 12, true},
	} {
		t.Run(fmt.Sprintf("MAX_INSTANCES=%s, instances %v", tc.maxInstances, tc.withInstance), func(t *testing.T) {
			calls := 0
			f := &ecsapitest.ECS{ByTags: func(in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
				calls++
				out := &ecsapi.DescribeInstancesOutput{RequestID: "req-page", NextToken: fmt.Sprintf("tok%d", calls)}
				if tc.withInstance && calls == 1 {
					out.Instances = []ecsapi.InstanceInfo{{InstanceID: "i-paged0000001", RegionID: in.RegionID, Status: "Stopped", Tags: map[string]string{"env": "dev"}}}
				}
				return out, nil
			}, Start: func(in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
				t.Errorf("started %v", in.InstanceIDs)
				return nil, fmt.Errorf("no start expected")
			}}
			h, _ := testHandler(t, map[string]string{"MAX_INSTANCES": tc.maxInstances}, f)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := h.run(ctx, testInvocation(h), []events.Message{msg("timer", events.StartRequest{RegionID: "cn-hangzhou", Tags: []events.TagFilter{{Key: "env", Value: strp("dev")}}})}, time.Time{})
			if calls != tc.pages {
				t.Errorf("%d DescribeInstances pages, want %d", calls, tc.pages)
			}
			if len(res.Ignored) != 1 || res.Ignored[0].Code != result.CodeTooManyPages || !strings.Contains(res.Ignored[0].Reason, "env=dev") || !strings.Contains(res.Ignored[0].Reason, "cn-hangzhou") {
				t.Fatalf("ignored %+v, want one entry with %s naming the region and the tags", res.Ignored, result.CodeTooManyPages)
			}
			if len(res.InstanceResponses.InstanceResponse) != 0 || !res.Unfinished() {
				t.Errorf("instances %+v, unfinished %v: want none, and the invocation unfinished", res.InstanceResponses.InstanceResponse, res.Unfinished())
			}
		})
	}
}
