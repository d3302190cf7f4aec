package fcemu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/fcemu"
)

// A follower gets every line as it comes, in order, and after Forget the
// process keeps none of them: a long serve session neither polls nor grows
// (one build path, docs/design.md §2).
func TestFollowDeliversLinesWithoutKeepingThem(t *testing.T) {
	s, p := startEcho(t, fcemu.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	lines := p.Follow(ctx)
	p.Forget()

	const n = 5
	for i := range n {
		res := invoke(t, s, fcemu.Invocation{Payload: []byte(`{}`), RequestID: fmt.Sprintf("follow-%d", i)})
		if res.IsError {
			t.Fatalf("function error: %s", res.Payload)
		}
	}
	next := 0
	timeout := time.After(10 * time.Second)
	for next < n {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the channel closed after %d of %d echo lines", next, n)
			}
			m, isJSON := l.JSON()
			if !isJSON || m["msg"] != "echo" {
				continue
			}
			if want := fmt.Sprintf("follow-%d", next); m["requestId"] != want {
				t.Fatalf("line %d is for %v, want %s: lines must come in order", next, m["requestId"], want)
			}
			next++
		case <-timeout:
			t.Fatalf("%d of %d echo lines reached the follower", next, n)
		}
	}
	if kept := len(p.Lines()); kept != 0 {
		t.Errorf("after Forget the process still keeps %d lines", kept)
	}

	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the follower's channel stays open after its context ended")
		}
	}
}
