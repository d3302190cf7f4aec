package starter

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// pacer spaces the ECS calls of one invocation once ECS has throttled one
// (DESIGN §7). ECS's flow control is a rate of calls per account and API;
// each group backing off on its own leaves that rate unused while every group
// sleeps, and gives up after its attempt budget while the others still wait
// (measured: 10,000 instances at 20 calls/s left 800 Unfinished, 1,000 took
// 3.5 × the throttle-bound time). So while ECS accepts other calls, a
// throttled call is retried through a shared pace instead: the first throttle
// sets the interval between calls to the pace at which ECS accepted them so
// far (the time since the first call ÷ the calls accepted), and after that
// the interval grows by a quarter when a call sent at the current pace is throttled (calls
// sent before the last growth do not count again, so that one burst counts
// once) and shrinks by 3 % at each
// accepted call. Calls then arrive at about the rate ECS accepts, which is
// what bounds the wall time; the interval is capped at Backoff.Max. While
// no call of the scope and API is accepted, a throttled call backs off as
// any transient answer, then waits for the next window of ECS's per-minute
// quota (startRun.throttledWait), bounded by the deadline, not by a count.
type pacer struct {
	max time.Duration
	// turn is held by the one call waiting for the next slot, so that the
	// slot is worked out from the interval as it is when the call goes, not
	// when it queued: a queue of calls reserved ahead would keep the old pace
	// for as long as it takes to drain.
	turn chan struct{}

	mu       sync.Mutex
	interval time.Duration // 0: no pacing (ECS has throttled nothing yet)
	last     time.Time     // when the last paced call went
	changed  time.Time     // when interval last grew
	first    time.Time     // when the first call went
	accepted int64         // calls answered without throttling so far
	// progress is closed at the next accepted call (nil: nobody waits).
	progress chan struct{}
}

func newPacer(limit time.Duration) *pacer {
	return &pacer{max: limit, turn: make(chan struct{}, 1)}
}

const (
	paceFloor  = 10 * time.Millisecond
	paceGrow   = 1.25
	paceShrink = 0.97
)

// wait blocks until the call may go and returns when it goes, or ctx's error
// if ctx ends first.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	p.mu.Lock()
	paced := p.interval > 0
	if p.first.IsZero() {
		p.first = time.Now()
	}
	p.mu.Unlock()
	if !paced {
		return time.Now(), nil
	}
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	defer func() { <-p.turn }()
	for {
		p.mu.Lock()
		// ±10 % jitter, so that instances of the function sharing a quota
		// do not fall into step.
		step := p.interval*9/10 + rand.N(p.interval/5+1) //nolint:gosec // G404: jitter, not a secret
		d := time.Until(p.last.Add(step))
		if d <= 0 {
			now := time.Now()
			p.last = now
			p.mu.Unlock()
			return now, nil
		}
		p.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			// No slot before the deadline: go now rather than wait past it,
			// so that the instances are reported with ECS's last answer; the
			// retry loop stops at the deadline.
			now := time.Now()
			p.mu.Lock()
			p.last = now
			p.mu.Unlock()
			return now, nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, ctx.Err()
		}
	}
}

// fits says whether the next turn, at the earliest, comes before ctx's
// deadline (always, while nothing is paced).
func (p *pacer) fits(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval == 0 || p.last.Add(p.interval*9/10).Before(dl)
}

// answered tells the pacer that a call sent at sent was accepted, or
// throttled (as a whole, or for some of its instances).
func (p *pacer) answered(sent time.Time, throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !throttled {
		p.accepted++
		if p.progress != nil {
			close(p.progress)
			p.progress = nil
		}
		if p.interval > 0 {
			p.interval = time.Duration(float64(p.interval) * paceShrink)
			if p.interval < time.Millisecond {
				p.interval = 0
			}
		}
		return
	}
	if sent.Before(p.changed) {
		return // sent at the old pace: that pace has already been slowed
	}
	if p.last.Before(sent) {
		p.last = sent // calls sent unpaced count too: the next turn is after them
	}
	if p.interval == 0 {
		// The first throttle: start from the pace at which ECS has
		// accepted calls so far, not from the floor, which took many
		// rounds of throttled calls to grow to it.
		p.interval = max(paceFloor, time.Since(p.first)/time.Duration(max(1, p.accepted)))
	} else {
		p.interval = max(paceFloor, time.Duration(float64(p.interval)*paceGrow))
	}
	if p.max > 0 && p.interval > p.max {
		p.interval = p.max
	}
	p.changed = time.Now()
}

// acceptedCalls counts the calls answered without throttling so far: a
// throttled group whose count did not grow since its call was sent sees no
// progress anywhere, and spends its transient budget.
func (p *pacer) acceptedCalls() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// progressSince is closed once more than mark calls have been accepted.
func (p *pacer) progressSince(mark int64) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.accepted > mark {
		done := make(chan struct{})
		close(done)
		return done
	}
	if p.progress == nil {
		p.progress = make(chan struct{})
	}
	return p.progress
}

// isThrottling says whether code is ECS's flow control (Throttling,
// Throttling.User, Throttling.Api, …).
func isThrottling(code string) bool {
	return strings.HasPrefix(code, "Throttling")
}
