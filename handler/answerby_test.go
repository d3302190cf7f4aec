package handler

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

// hangingECS is an ECS whose StartInstances answers only when the caller's
// context ends: latency past any deadline.
type hangingECS struct{ *ecsapitest.ECS }

func (hangingECS) StartInstances(ctx context.Context, _ ecsapi.Credentials, _ ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	<-ctx.Done()
	return nil, &ecsapi.NetworkError{Op: "StartInstances", Host: "fake", Err: ctx.Err()}
}

// slowLog is a log destination that takes perWrite for every write, as a
// stdout pipe whose reader falls behind on a loaded machine does.
type slowLog struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	perWrite time.Duration
}

func (s *slowLog) Write(p []byte) (int, error) {
	time.Sleep(s.perWrite)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// DESIGN §5, the deadline: "the function stops starting new work in time
// to answer before the invocation's deadline (a margin of about a
// second), and always answers." What is left after the work ends — the
// calls in flight unwinding, the result, a line per instance through a
// stdout that may be slow — does not shrink with the function's timeout,
// so neither may the margin shrink to a sliver of it, nor shrink further
// as the invocation goes on. The fault matrix's cell "latency past the
// deadline" (1,000 instances, a 2 s deadline) answered after 2.03 s on a
// loaded machine: the margin was a fifth of 2 s, 0.4 s, and the 1,000 log
// lines alone took 0.3 s of it. Here the log's writes take 50 ms each
// (about 0.4 s for the lines of 1,000 instances).
func TestAnswerByLeavesRoomToReport(t *testing.T) {
	t.Run("a slow log, 1000 instances, a 2 s deadline", func(t *testing.T) {
		cfg, err := ConfigFromEnv(envOf(map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}))
		if err != nil {
			t.Fatal(err)
		}
		logs := &slowLog{perWrite: 50 * time.Millisecond}
		h := New(cfg, nil, hangingECS{ecsapitest.NewFleet(nil).ECS()}, logs)
		h.starter.Backoff = fastBackoff
		payload := mustMarshal(t, map[string]any{"instanceIds": ecsapitest.IDs(1000, "ab")})
		const deadline = 2 * time.Second
		ctx, cancel := context.WithTimeout(invContext(context.Background(), "req-answer-by"), deadline)
		defer cancel()
		began := time.Now()
		_, err = h.Handle(ctx, payload)
		took := time.Since(began)
		var ue *UnfinishedError
		if !errors.As(err, &ue) {
			t.Fatalf("want the invocation unfinished, got %v", err)
		}
		if took >= deadline {
			t.Fatalf("answered after %v, past the %v deadline", took.Round(time.Millisecond), deadline)
		}
		instances := 0
		for _, l := range parseLogs(t, logs.buf.Bytes()) {
			if l.str("msg") == "instance" {
				instances++
			}
		}
		if instances != 1000 {
			t.Fatalf("%d instance lines, want 1000", instances)
		}
		t.Logf("answered after %v of %v", took.Round(time.Millisecond), deadline)
	})
	t.Run("the margin is the invocation's, not the time left's", func(t *testing.T) {
		h, _ := testHandler(t, nil, ecsapitest.NewFleet(nil).ECS())
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		inv := h.newInvocation(ctx)
		first := h.answerBy(inv, time.Time{})
		time.Sleep(300 * time.Millisecond)
		if later := h.answerBy(inv, time.Time{}); !later.Equal(first) {
			t.Fatalf("answerBy moved from %v to %v as time went on", first.Sub(inv.Start), later.Sub(inv.Start))
		}
	})
}
