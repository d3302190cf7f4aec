package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// longRuns says whether the long versions of the soak and the fault matrix
// run: START_ECS_LONG=1 (RELIABILITY.md's figures); CI runs the short ones.
func longRuns() bool { return os.Getenv("START_ECS_LONG") != "" }

// soakInvocations is how many invocations the soak runs: START_ECS_SOAK, else
// 10,000 with START_ECS_LONG, else 500.
func soakInvocations(t *testing.T) int {
	if s := os.Getenv("START_ECS_SOAK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("START_ECS_SOAK=%q", s)
		}
		return n
	}
	if longRuns() {
		return 10_000
	}
	return 500
}

// processFigures are what a leak would grow.
type processFigures struct {
	goroutines int
	heap       uint64 // bytes in use after a GC
	fds        int
}

func measureProcess(t *testing.T) processFigures {
	t.Helper()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return processFigures{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, fds: len(fds)}
}

// statusECS is an ECS of Stopped instances that start, with no record kept:
// the soak's heap is then the function's own.
type statusECS struct {
	mu      sync.Mutex
	running map[string]bool
}

func (e *statusECS) StartInstances(_ context.Context, _ ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &ecsapi.StartInstancesOutput{RequestID: "req-soak"}
	for _, id := range in.InstanceIDs {
		r := ecsapi.InstanceResponse{InstanceID: id, Code: "200", Message: "success", PreviousStatus: "Stopped", CurrentStatus: "Starting"}
		if e.running[id] {
			r = ecsapi.InstanceResponse{InstanceID: id, Code: result.CodeIncorrectStatus, Message: "x", PreviousStatus: "Running", CurrentStatus: "Running"}
		}
		e.running[id] = true
		out.Responses = append(out.Responses, r)
	}
	return out, nil
}

func (e *statusECS) DescribeInstances(_ context.Context, _ ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &ecsapi.DescribeInstancesOutput{RequestID: "req-soak"}
	for _, id := range ids {
		st := "Stopped"
		if e.running[id] {
			st = "Running"
		}
		out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: id, RegionID: region, Status: st})
	}
	return out, nil
}

func (e *statusECS) DescribeInstanceStatus(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	return e.DescribeInstances(ctx, creds, region, ids)
}

func (e *statusECS) DescribeInstancesByTags(context.Context, ecsapi.Credentials, ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	return &ecsapi.DescribeInstancesOutput{RequestID: "req-soak"}, nil
}

func (e *statusECS) stop(id string) error {
	e.mu.Lock()
	delete(e.running, id)
	e.mu.Unlock()
	return nil
}

// The soak: sequential invocations, each starting 5 instances that are then
// stopped again; goroutines, heap and open file descriptors are measured
// after a warm-up and at the end, and must stay within a stated bound:
// +10 goroutines, +10 descriptors, and +2 MiB of heap for the function
// alone. Through the real SDK adapter and the ECS emulator in this process,
// goroutines and descriptors are bounded the same way; the heap is only
// reported there, since the emulator keeps every request's nonce for its
// 30-minute replay window (about 300 bytes a call).
func TestSoakSequentialInvocations(t *testing.T) {
	n := soakInvocations(t)
	t.Run("function alone", func(t *testing.T) {
		_, ids := faultFleet(20)
		e := &statusECS{running: map[string]bool{}}
		soak(t, n, e, ids, e.stop, 2<<20)
	})
	t.Run("SDK adapter and ECS emulator", func(t *testing.T) {
		fleet, ids := faultFleet(20)
		emu := ecsemu.New(ecsemu.Options{Fleet: fleet, StartDelay: -1, Credentials: []ecsemu.Credential{{AccessKeyID: invCreds.AccessKeyID,
			AccessKeySecret: invCreds.AccessKeySecret, SecurityToken: invCreds.SecurityToken}}})
		emu.Start()
		t.Cleanup(emu.Close)
		sdk, err := aliyun.NewECS(aliyun.Options{Endpoint: emu.URL()})
		if err != nil {
			t.Fatal(err)
		}
		soak(t, n, sdk, ids, func(id string) error {
			emu.ResetCalls()
			return emu.SetInstance(ecsemu.Instance{InstanceID: id, RegionID: "cn-hangzhou", Status: ecsemu.Stopped})
		}, 0)
	})
}

// soak runs n invocations (after a warm-up) on one handler over e; stop
// stops an instance again; heapBound, when not 0, bounds the heap's growth.
func soak(t *testing.T, n int, e ecsapi.ECS, ids []string, stop func(id string) error, heapBound uint64) {
	cfg, err := ConfigFromEnv(envOf(map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	h := New(cfg, nil, e, lockedWriter{&logMu, &logs})

	const warmup = 100
	var before processFigures
	began := time.Now()
	for i := range n + warmup {
		if i == warmup {
			before = measureProcess(t)
			began = time.Now()
		}
		batch := ids[(i*5)%len(ids) : (i*5)%len(ids)+5]
		payload, _ := json.Marshal(map[string]any{"instanceIds": batch})
		logMu.Lock()
		logs.Reset()
		logMu.Unlock()
		ctx, cancel := context.WithTimeout(invContext(context.Background(), fmt.Sprintf("soak-%d", i)), 30*time.Second)
		out, err := h.Handle(ctx, payload)
		cancel()
		logMu.Lock()
		run := invocationRun{input: payload, answer: out, err: err, logs: []byte(logs.String())}
		logMu.Unlock()
		rep := checkInvocation(t, run)
		for _, id := range batch {
			if l := rep.instances[ecsapi.InstanceKey(ecsapi.Scope{Region: "cn-hangzhou"}, id)]; l.str("outcome") != string(result.Started) {
				t.Fatalf("invocation %d: %s %s %s", i, id, l.str("outcome"), l.str("code"))
			}
			if err := stop(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	took := time.Since(began)
	after := measureProcess(t)
	t.Logf("%d invocations in %v (%.0f/s): goroutines %d → %d, heap %.1f → %.1f MiB, open fds %d → %d",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), before.goroutines, after.goroutines,
		float64(before.heap)/(1<<20), float64(after.heap)/(1<<20), before.fds, after.fds)
	if after.goroutines > before.goroutines+10 {
		t.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
	if after.fds > before.fds+10 {
		t.Errorf("open file descriptors grew from %d to %d", before.fds, after.fds)
	}
	if heapBound > 0 && after.heap > before.heap+heapBound {
		t.Errorf("the heap grew from %d to %d bytes", before.heap, after.heap)
	}
}

// 50 invocations at once in one handler (run it with -race): each answer is
// its own, each instance reported once, nothing started twice.
func TestFiftyConcurrentInvocations(t *testing.T) {
	fleet, ids := faultFleet(50)
	emu := ecsemu.New(ecsemu.Options{Fleet: fleet, Credentials: []ecsemu.Credential{{AccessKeyID: invCreds.AccessKeyID,
		AccessKeySecret: invCreds.AccessKeySecret, SecurityToken: invCreds.SecurityToken}}})
	emu.Start()
	t.Cleanup(emu.Close)
	sdk, err := aliyun.NewECS(aliyun.Options{Endpoint: emu.URL()})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromEnv(envOf(map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	h := New(cfg, nil, sdk, lockedWriter{&logMu, &logs})
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			// Each names its own instance and its neighbour's: 50 invocations
			// compete for every instance twice.
			pair := []string{id, ids[(i+1)%len(ids)]}
			payload, _ := json.Marshal(map[string]any{"instanceIds": pair})
			out, err := h.Handle(invContext(context.Background(), fmt.Sprintf("conc-%d", i)), payload)
			if err != nil {
				errs <- err
				return
			}
			var r result.Result
			if err := json.Unmarshal(out, &r); err != nil {
				errs <- err
				return
			}
			if r.RequestID != fmt.Sprintf("conc-%d", i) || len(r.InstanceResponses.InstanceResponse) != 2 {
				errs <- fmt.Errorf("conc-%d: %s", i, out)
				return
			}
			for _, ir := range r.InstanceResponses.InstanceResponse {
				if ir.Outcome != result.Started && ir.Outcome != result.AlreadyRunning {
					errs <- fmt.Errorf("conc-%d: %s %s %s", i, ir.InstanceID, ir.Outcome, ir.Code)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	started := map[string]int{}
	for _, c := range emu.Calls() {
		for _, id := range c.Started {
			started[id]++
		}
	}
	for _, id := range ids {
		if started[id] != 1 {
			t.Errorf("%s accepted %d starts", id, started[id])
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if got := strings.Count(logs.String(), `"msg":"summary"`); got != len(ids) {
		t.Fatalf("%d summary lines for %d invocations", got, len(ids))
	}
	checkNoSecrets(t, nil, []byte(logs.String()))
}
