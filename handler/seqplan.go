package handler

import (
	"fmt"
	"slices"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// sequenceRequest is a valid request with a sequence, accepted (expiry
// passed) and waiting for its turn: execute runs it after the rest of the
// batch (runSequence).
type sequenceRequest struct {
	m      events.Message
	src    string
	region string // the outer request's region, the groups' default
	req    events.StartRequest
	// skippedPast counts the instances Skipped past MAX_INSTANCES entries,
	// skippedIDs lists the first few: one Ignored entry sums them up.
	skippedPast int
	skippedIDs  []string
}

// group is the start request of group i with the outer request's fields as
// its defaults (inherit), and the implied wait: until the invocation's
// deadline unless the group names one. An outer wait bounds the whole
// sequence: no group waits past it (DESIGN §3.1; waits count from the
// invocation's start).
func (sq *sequenceRequest) group(i int) events.StartRequest {
	g := inherit(sq.req, sq.region, sq.req.Sequence[i])
	own, on, _ := parseWait(sq.req.Sequence[i].Wait)
	if !on {
		own = maxWait
	}
	if outer, on, _ := parseWait(sq.req.Wait); on && outer < own {
		own = outer
	}
	g.Wait = waitString(own)
	if outer, on, _ := parseWait(sq.req.Wait); on && g.Targets != nil {
		// The group's targets too: a target's own longer wait is cut.
		g.Targets = slices.Clone(g.Targets)
		for j, t := range g.Targets {
			if d, on, _ := parseWait(t.Wait); on && d > outer {
				g.Targets[j].Wait = waitString(outer)
			}
		}
	}
	return g
}

// waitString writes a wait as parseWait reads it.
func waitString(d time.Duration) string {
	if d >= maxWait {
		return "true"
	}
	return d.String()
}

// absorb merges a group's plan into p and says why the sequence stops after
// group i, or "". An instance p already holds keeps one result: the one a
// real start decided (decidedByStart) wins over a dry run's, a refusal's or
// a skip's, and a Started over another real outcome, so that an instance a
// batch message and a sequence both name is reported as what ECS did to it
// (DESIGN §3.1).
func (p *plan) absorb(sp *plan, i int) string {
	stop := ""
	for _, e := range sp.entries {
		if e.result != nil && stop == "" {
			switch e.result.Outcome {
			case result.Rejected, result.Failed, result.Unfinished:
				stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s in %s is %s (%s)", i, e.id, ecsapi.ScopeLabel(e.region), e.result.Outcome, e.result.Code)
			}
		}
		k := ecsapi.InstanceKey(e.region, e.id)
		have, ok := p.byKey[k]
		if !ok {
			p.byKey[k] = e
			p.entries = append(p.entries, e)
			continue
		}
		for _, s := range e.sources {
			have.addSource(s)
		}
		if decidedByStart(e) && (!decidedByStart(have) || (e.result.Outcome == result.Started && have.result.Outcome != result.Started)) {
			have.result, have.dryRun, have.named[modeReal] = e.result, false, true
			have.waited, have.runningAfter = e.waited, e.runningAfter
		}
	}
	for _, ig := range sp.ignored {
		if stop == "" {
			// Any Ignored entry stops it: a group not carried out
			// (expired, a skip date, nothing found) is not Running.
			stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s", i, ig.Reason)
			if ig.Code != "" {
				stop += " (" + ig.Code + ")"
			}
		}
		p.ignoreCounted(ig, ig.InstanceIDs, max(ig.InstanceCount, len(ig.InstanceIDs)))
	}
	if len(sp.unresolved) > 0 && stop == "" {
		stop = fmt.Sprintf("sequence[%d] stopped the sequence: its tags were not looked up to the end (%s)", i, sp.unresolved[0])
	}
	p.unresolved = append(p.unresolved, sp.unresolved...)
	p.requests += sp.requests
	p.dryRuns += sp.dryRuns
	p.addInvalid(sp.invalid)
	return stop
}

// decidedByStart says whether e's result is that of a real start: a request
// that was no dry run asked for it and ECS (or its lookup) decided it —
// never a dry run's, a refusal's or a skip's outcome.
func decidedByStart(e *entry) bool {
	if e.result == nil || e.dryRun || !e.named[modeReal] {
		return false
	}
	switch e.result.Outcome {
	case result.Started, result.AlreadyRunning, result.Failed, result.Unfinished:
		return true
	}
	return false
}
