package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Sequence is a valid request with a sequence, accepted (expiry
// passed) and waiting for its turn: execute runs it after the rest of the
// batch (runSequence).
type Sequence struct {
	M      events.Message
	Src    string
	region string // the outer request's region, the groups' default
	Req    events.StartRequest
	// skippedPast counts the instances Skipped past MAX_INSTANCES entries,
	// skippedIDs lists the first few: one Ignored entry sums them up.
	SkippedPast int
	SkippedIDs  []string
}

// Group is the start request of group i with the outer request's fields as
// its defaults (inherit), and the implied wait: until the invocation's
// deadline unless the group names one. An outer wait bounds the whole
// sequence: no group waits past it (DESIGN §3.1; waits count from the
// invocation's start).
func (sq *Sequence) Group(i int) events.StartRequest {
	g := Inherit(sq.Req, sq.region, sq.Req.Sequence[i])
	own, on, _ := ParseWait(sq.Req.Sequence[i].Wait)
	if !on {
		own = maxWait
	}
	if outer, on, _ := ParseWait(sq.Req.Wait); on && outer < own {
		own = outer
	}
	g.Wait = waitString(own)
	if outer, on, _ := ParseWait(sq.Req.Wait); on && g.Targets != nil {
		// The group's targets too: a target's own longer wait is cut.
		g.Targets = slices.Clone(g.Targets)
		for j, t := range g.Targets {
			if d, on, _ := ParseWait(t.Wait); on && d > outer {
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

// Absorb merges a group's plan into p and says why the sequence stops after
// group i, or "". An instance p already holds keeps one result: the one a
// real start decided (decidedByStart) wins over a dry run's, a refusal's or
// a skip's, and a Started over another real outcome, so that an instance a
// batch message and a sequence both name is reported as what ECS did to it
// (DESIGN §3.1).
func (p *Plan) Absorb(sp *Plan, i int) string {
	stop := ""
	for _, e := range sp.Entries {
		if e.Result != nil && stop == "" {
			switch e.Result.Outcome {
			case result.Rejected, result.Failed, result.Unfinished:
				stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s in %s is %s (%s)", i, e.ID, ecsapi.ScopeLabel(e.Scope), e.Result.Outcome, e.Result.Code)
			}
		}
		k := ecsapi.InstanceKey(e.Scope, e.ID)
		have, ok := p.ByKey[k]
		if !ok {
			p.ByKey[k] = e
			p.Entries = append(p.Entries, e)
			continue
		}
		for _, s := range e.Sources {
			have.AddSource(s)
		}
		if decidedByStart(e) && (!decidedByStart(have) || (e.Result.Outcome == result.Started && have.Result.Outcome != result.Started)) {
			have.Result, have.DryRun, have.named[modeReal] = e.Result, false, true
			have.Waited, have.RunningAfter = e.Waited, e.RunningAfter
		}
	}
	for _, ig := range sp.Ignored {
		if stop == "" {
			// Any Ignored entry stops it: a group not carried out
			// (expired, a skip date, nothing found) is not Running.
			stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s", i, ig.Reason)
			if ig.Code != "" {
				stop += " (" + ig.Code + ")"
			}
		}
		p.IgnoreCounted(ig, ig.InstanceIDs, max(ig.InstanceCount, len(ig.InstanceIDs)))
	}
	if len(sp.Unresolved) > 0 && stop == "" {
		stop = fmt.Sprintf("sequence[%d] stopped the sequence: its tags were not looked up to the end (%s)", i, sp.Unresolved[0])
	}
	p.Unresolved = append(p.Unresolved, sp.Unresolved...)
	p.Requests += sp.Requests
	p.DryRuns += sp.DryRuns
	p.addInvalid(sp.Invalid)
	p.refusals = append(p.refusals, sp.refusals...)
	return stop
}

// decidedByStart says whether e's result is that of a real start: a request
// that was no dry run asked for it and ECS (or its lookup) decided it —
// never a dry run's, a refusal's or a skip's outcome.
func decidedByStart(e *Entry) bool {
	if e.Result == nil || e.DryRun || !e.named[modeReal] {
		return false
	}
	switch e.Result.Outcome {
	case result.Started, result.AlreadyRunning, result.Failed, result.Unfinished:
		return true
	}
	return false
}
