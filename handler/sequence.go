package handler

import (
	"context"
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

// runSequence carries out a sequence: group n+1 is planned and started only
// once every instance of group n is Running (each group waits, §3.1). A
// group in which an instance ends Rejected, Failed or Unfinished, or with an
// Ignored entry (expired, a skip date, nothing found by its tags, refused,
// not looked up to its end), stops the sequence: every instance of the later
// groups is Skipped, never sent; a later group that selects by tags is looked
// up, read only, so that each of its instances is reported. A later group
// that would not be carried out today anyway (its own notAfter passed, a
// skip date in its zone) is Ignored with that reason instead. Each group is
// a plan of its own that shares the invocation's MAX_INSTANCES count; its
// entries join p's, in order (absorb).
func (h *Handler) runSequence(ctx context.Context, inv *invocation, p *plan, sq *sequenceRequest) {
	stop := ""
	for i := range sq.req.Sequence {
		m := sq.m
		m.Request = sq.group(i)
		if stop != "" {
			h.skipGroup(ctx, inv, p, sq, m, i, stop)
			continue
		}
		sp := newPlan(h.cfg.MaxInstances)
		sp.counted = p.counted
		h.planMessage(sp, inv, m)
		if len(sp.pending) == 0 {
			sp.finish(h)
		}
		h.carryOut(ctx, inv, sp)
		sp.closeIgnored()
		stop = p.absorb(sp, i)
	}
	if sq.skippedPast > 0 {
		// Skipped entries are bounded like every kind (DESIGN §4).
		p.ignoreCounted(result.IgnoredEvent{Source: sq.src, Code: result.CodeSequenceStopped, Trigger: string(sq.m.Trigger),
			Reason: fmt.Sprintf("%d more instances of the later groups were Skipped (%s), past the %d entries one answer lists (MAX_INSTANCES); none was sent",
				sq.skippedPast, stop, p.maxInstances)}, sq.skippedIDs, sq.skippedPast)
	}
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

// skipGroup reports group i after the sequence stopped: each instance it
// names is Skipped (SequenceStopped), and a selection by tags is looked up
// read only (no role that is not allowed is assumed) so that each instance it
// finds is reported too; a target or group that its own notAfter or skip
// dates leave out today is Ignored with that reason. Nothing is started.
// Past MAX_INSTANCES Skipped entries, the rest are counted on sq.
func (h *Handler) skipGroup(ctx context.Context, inv *invocation, p *plan, sq *sequenceRequest, m events.Message, i int, stop string) {
	g, src := m.Request, sq.src
	parts := []events.StartRequest{g}
	if g.Targets != nil {
		parts = make([]events.StartRequest, len(g.Targets))
		for j, t := range g.Targets {
			parts[j] = inherit(g, g.RegionID, t)
		}
	}
	skipped := &result.InstanceResult{Outcome: result.Skipped, Code: result.CodeSequenceStopped, Message: "not sent: " + stop}
	skip := func(scope, id string) {
		if e, ok := p.byKey[ecsapi.InstanceKey(scope, id)]; ok {
			e.addSource(src)
			return // reported by another request of the invocation
		}
		if p.skipped >= p.maxInstances {
			sq.skippedPast++
			if len(sq.skippedIDs) < maxListedIDs {
				sq.skippedIDs = append(sq.skippedIDs, id)
			}
			return
		}
		p.skipped++
		e := p.entry(scope, id, m.Trigger)
		e.addSource(src)
		r := *skipped
		e.result = &r
	}
	for j, t := range parts {
		scope := ecsapi.ScopeOf(t.RegionID, t.RoleArn)
		what := fmt.Sprintf("sequence[%d] in %s", i, ecsapi.ScopeLabel(scope))
		if g.Targets != nil {
			what = fmt.Sprintf("sequence[%d].targets[%d] in %s", i, j, ecsapi.ScopeLabel(scope))
		}
		if reason := h.notToday(m, t, inv.start, what); reason != "" {
			p.ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, uniqueStrings(t.InstanceIDs))
			continue
		}
		for _, id := range uniqueStrings(t.InstanceIDs) {
			skip(scope, id)
		}
		if len(t.InstanceIDs) > 0 || t.Tags == nil {
			continue
		}
		tags := tagPairs(t.Tags)
		what = fmt.Sprintf("the tags %s in %s", ecsapi.TagList(tags), ecsapi.ScopeLabel(scope))
		ig := result.IgnoredEvent{Source: src, Trigger: string(m.Trigger)}
		if t.RoleArn != "" && !h.cfg.AllowedRoles[t.RoleArn] {
			ig.Code, ig.Reason = result.CodeNotAllowed, fmt.Sprintf("skipped (%s); %s were not looked up: %s", stop, what, roleNotAllowed(t.RoleArn))
			p.ignore(ig, nil)
			continue
		}
		if inv.creds.Empty() {
			ig.Code, ig.Reason = result.CodeMissingCredentials, fmt.Sprintf("skipped (%s); %s were not looked up: the invocation carries no credentials", stop, what)
			p.ignore(ig, nil)
			continue
		}
		r := h.newRun(inv)
		found, v, ok := r.SelectByTags(ctx, scope, tags, h.cfg.MaxInstances)
		h.logWarnings(inv, r.Warnings())
		switch {
		case !ok:
			ig.Code, ig.Reason = v.Code, fmt.Sprintf("skipped (%s); looking up %s did not succeed: %s", stop, what, v.Message)
			p.ignore(ig, nil)
		case len(found) == 0:
			ig.Reason = fmt.Sprintf("skipped (%s); no instance carries %s", stop, what)
			p.ignore(ig, nil)
		default:
			for _, in := range found {
				skip(scope, in.InstanceID)
			}
		}
	}
}
