package starter

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

// DESIGN §3.1 wait: "The last poll is at the wait's end, however short the
// wait: an instance that is Running when the wait ends is reported Running,
// never WaitTimeout." Polls go to DescribeInstanceStatus (§7). Scaled down:
// the poll interval is 200 ms; a wait shorter than it (150 ms) and one that
// is not a multiple of it (390 ms) both poll at their end.
func TestWaitPollsAtItsEnd(t *testing.T) {
	const interval = 200 * time.Millisecond
	cases := []struct {
		name         string
		wait         time.Duration
		runningAfter time.Duration // -1: never
		wantRunning  bool
	}{
		{"a wait shorter than the poll interval", 150 * time.Millisecond, 90 * time.Millisecond, true},
		{"a wait that is no multiple of the interval", 390 * time.Millisecond, 300 * time.Millisecond, true},
		{"an instance that never runs", 250 * time.Millisecond, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			var mu sync.Mutex
			var polls []time.Duration
			f := &ecsapitest.ECS{Status: func(_ string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
				mu.Lock()
				polls = append(polls, time.Since(begin))
				mu.Unlock()
				st := "Starting"
				if tc.runningAfter >= 0 && time.Since(begin) >= tc.runningAfter {
					st = "Running"
				}
				return &ecsapi.DescribeInstancesOutput{RequestID: "req-poll", Instances: []ecsapi.InstanceInfo{{InstanceID: ids[0], Status: st}}}, nil
			}}
			s := &Starter{ECS: f, MaxConcurrent: 1, Backoff: fastBackoff, PollInterval: interval}
			r := s.newRun(ecsapi.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			seen, last := r.WaitRunning(ctx, ecsapi.Scope{Region: "cn-hangzhou"}, []string{"i-wait000001"}, begin, begin.Add(tc.wait))
			sr := seen["i-wait000001"]
			if sr.Running != tc.wantRunning {
				t.Fatalf("running %v (last %s, verdict %s), want %v; polls at %v", sr.Running, sr.Status, last.Code, tc.wantRunning, polls)
			}
			if !tc.wantRunning && last.Code != result.CodeWaitTimeout {
				t.Errorf("verdict %s, want %s", last.Code, result.CodeWaitTimeout)
			}
			if got := polls[len(polls)-1]; got < tc.wait-5*time.Millisecond || got > tc.wait+150*time.Millisecond {
				t.Errorf("last poll at %s, want at the wait's end (%s); polls at %v", got, tc.wait, polls)
			}
			if f.Describes != 0 {
				t.Errorf("%d DescribeInstances calls: a wait polls with DescribeInstanceStatus", f.Describes)
			}
		})
	}
}
