package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/start-ecs/start-ecs/events"
)

// CodeSequenceStopped is the Code of an instance Skipped because an earlier
// group of its sequence failed (DESIGN §3.1, §5).
const CodeSequenceStopped = "SequenceStopped"

// sequenceRequest is a valid request with a sequence, accepted (expiry, skip
// dates passed) and waiting for its turn: execute runs it after the rest of
// the batch (runSequence).
type sequenceRequest struct {
	m      events.Message
	src    string
	region string // the outer request's region, the groups' default
	req    events.StartRequest
}

// group is the start request of group i, with the outer request's regionId,
// dryRun and notAfter as defaults and the implied wait: until the
// invocation's deadline unless the group names one.
func (sq *sequenceRequest) group(i int) events.StartRequest {
	g := sq.req.Sequence[i]
	if g.RegionID == "" && g.Targets == nil {
		g.RegionID = sq.region
	}
	g.DryRun = g.DryRun || sq.req.DryRun
	if g.NotAfter == "" {
		g.NotAfter = sq.req.NotAfter
	}
	if g.Wait == "" || strings.EqualFold(g.Wait, "false") {
		g.Wait = "true"
	}
	return g
}

// runSequence carries out a sequence: group n+1 is planned and started only
// once every instance of group n is Running (each group waits, §3.1). A
// group in which an instance ends Rejected, Failed or Unfinished — or that
// was refused or not looked up to its end — stops the sequence: every
// instance of the later groups is Skipped, never sent; a later group that
// selects by tags is looked up, read only, so that each of its instances is
// reported. Each group is a plan of its own that shares the invocation's
// MAX_INSTANCES count; its entries join p's, in order. An instance already
// reported by the batch keeps that report.
func (h *Handler) runSequence(ctx context.Context, inv *invocation, p *plan, sq *sequenceRequest) {
	stop := ""
	for i := range sq.req.Sequence {
		m := sq.m
		m.Request = sq.group(i)
		if stop != "" {
			h.skipGroup(ctx, inv, p, m, sq.src, stop)
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
}

// absorb merges a group's plan into p and says why the sequence stops after
// group i, or "".
func (p *plan) absorb(sp *plan, i int) string {
	stop := ""
	for _, e := range sp.entries {
		if e.result != nil && stop == "" {
			switch e.result.Outcome {
			case Rejected, Failed, Unfinished:
				stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s in %s is %s (%s)", i, e.id, scopeLabel(e.region), e.result.Outcome, e.result.Code)
			}
		}
		k := resultKey(e.region, e.id)
		if have, ok := p.byKey[k]; ok {
			for _, s := range e.sources {
				have.addSource(s)
			}
			continue
		}
		p.byKey[k] = e
		p.entries = append(p.entries, e)
	}
	for _, ig := range sp.ignored {
		if ig.Code != "" && stop == "" {
			stop = fmt.Sprintf("sequence[%d] stopped the sequence: %s (%s)", i, ig.Reason, ig.Code)
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

// skipGroup reports a group after the sequence stopped: each instance it
// names is Skipped (SequenceStopped), and a selection by tags is looked up
// read only (no role that is not allowed is assumed) so that each instance it
// finds is reported too. Nothing is started.
func (h *Handler) skipGroup(ctx context.Context, inv *invocation, p *plan, m events.Message, src, stop string) {
	g := m.Request
	parts := g.Targets
	if parts == nil {
		parts = []events.StartRequest{g}
	}
	skipped := &InstanceResult{Outcome: Skipped, Code: CodeSequenceStopped, Message: "not sent: " + stop}
	skip := func(scope, id string) {
		e := p.entry(scope, id, m.Trigger)
		e.addSource(src)
		if e.result == nil && e.fallback == nil && !e.named[modeReal] && !e.named[modeDry] {
			r := *skipped
			e.result = &r
		}
	}
	for _, t := range parts {
		region := t.RegionID
		if region == "" {
			region = g.RegionID
		}
		scope := scopeOf(region, t.RoleArn)
		for _, id := range uniqueStrings(t.InstanceIDs) {
			skip(scope, id)
		}
		if len(t.InstanceIDs) > 0 || t.Tags == nil {
			continue
		}
		tags := tagPairs(t.Tags)
		what := fmt.Sprintf("the tags %s in %s", tagList(tags), scopeLabel(scope))
		ig := IgnoredEvent{Source: src, trigger: m.Trigger}
		if t.RoleArn != "" && !h.cfg.AllowedRoles[t.RoleArn] {
			ig.Code, ig.Reason = CodeNotAllowed, fmt.Sprintf("skipped (%s); %s were not looked up: %s", stop, what, roleNotAllowed(t.RoleArn))
			p.ignore(ig, nil)
			continue
		}
		if inv.creds.Empty() {
			ig.Code, ig.Reason = CodeMissingCredentials, fmt.Sprintf("skipped (%s); %s were not looked up: the invocation carries no credentials", stop, what)
			p.ignore(ig, nil)
			continue
		}
		r := h.newRun(inv)
		found, v, ok := r.selectByTags(ctx, scope, tags, h.cfg.MaxInstances)
		h.logWarnings(inv, r.warnings)
		switch {
		case !ok:
			ig.Code, ig.Reason = v.code, fmt.Sprintf("skipped (%s); looking up %s did not succeed: %s", stop, what, v.message)
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
