package handler

import (
	"context"
	"fmt"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

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
func (h *Handler) runSequence(ctx context.Context, inv *invocation, p *plan.Plan, sq *plan.Sequence) {
	stop := ""
	for i := range sq.Req.Sequence {
		m := sq.M
		m.Request = sq.Group(i)
		if stop != "" {
			h.skipGroup(ctx, inv, p, sq, m, i, stop)
			continue
		}
		sp := plan.New(h.cfg.MaxInstances)
		sp.Counted = p.Counted
		h.planner().PlanMessage(sp, &inv.Invocation, m)
		if len(sp.Pending) == 0 {
			sp.Finish(h.planner())
		}
		h.carryOut(ctx, inv, sp)
		sp.CloseIgnored()
		stop = p.Absorb(sp, i)
	}
	if sq.SkippedPast > 0 {
		// Skipped entries are bounded like every kind (DESIGN §4).
		p.IgnoreCounted(result.IgnoredEvent{Source: sq.Src, Code: result.CodeSequenceStopped, Trigger: string(sq.M.Trigger),
			Reason: fmt.Sprintf("%d more instances of the later groups were Skipped (%s), past the %d entries one answer lists (MAX_INSTANCES); none was sent",
				sq.SkippedPast, stop, p.MaxInstances)}, sq.SkippedIDs, sq.SkippedPast)
	}
}

// skipGroup reports group i after the sequence stopped: each instance it
// names is Skipped (SequenceStopped), and a selection by tags is looked up
// read only (no role that is not allowed is assumed) so that each instance it
// finds is reported too; a target or group that its own notAfter or skip
// dates leave out today is Ignored with that reason. Nothing is started.
// Past MAX_INSTANCES Skipped entries, the rest are counted on sq.
func (h *Handler) skipGroup(ctx context.Context, inv *invocation, p *plan.Plan, sq *plan.Sequence, m events.Message, i int, stop string) {
	g, src := m.Request, sq.Src
	parts := []events.StartRequest{g}
	if g.Targets != nil {
		parts = make([]events.StartRequest, len(g.Targets))
		for j, t := range g.Targets {
			parts[j] = plan.Inherit(g, g.RegionID, t)
		}
	}
	skipped := &result.InstanceResult{Outcome: result.Skipped, Code: result.CodeSequenceStopped, Message: "not sent: " + stop}
	skip := func(scope ecsapi.Scope, id string) {
		if e, ok := p.ByKey[ecsapi.InstanceKey(scope, id)]; ok {
			e.AddSource(src)
			return // reported by another request of the invocation
		}
		if p.Skipped >= p.MaxInstances {
			sq.SkippedPast++
			if len(sq.SkippedIDs) < plan.MaxListedIDs {
				sq.SkippedIDs = append(sq.SkippedIDs, id)
			}
			return
		}
		p.Skipped++
		e := p.Entry(scope, id, m.Trigger)
		e.AddSource(src)
		r := *skipped
		e.Result = &r
	}
	for j, t := range parts {
		scope := ecsapi.ScopeOf(t.RegionID, t.RoleArn)
		what := fmt.Sprintf("sequence[%d] in %s", i, ecsapi.ScopeLabel(scope))
		if g.Targets != nil {
			what = fmt.Sprintf("sequence[%d].targets[%d] in %s", i, j, ecsapi.ScopeLabel(scope))
		}
		if reason := h.planner().NotToday(m, t, inv.Start, what); reason != "" {
			p.Ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, plan.UniqueStrings(t.InstanceIDs))
			continue
		}
		for _, id := range plan.UniqueStrings(t.InstanceIDs) {
			skip(scope, id)
		}
		if len(t.InstanceIDs) > 0 || t.Tags == nil {
			continue
		}
		tags := plan.TagPairs(t.Tags)
		what = fmt.Sprintf("the tags %s in %s", ecsapi.TagList(tags), ecsapi.ScopeLabel(scope))
		ig := result.IgnoredEvent{Source: src, Trigger: string(m.Trigger)}
		if t.RoleArn != "" && !h.cfg.AllowedRoles[t.RoleArn] {
			ig.Code, ig.Reason = result.CodeNotAllowed, fmt.Sprintf("skipped (%s); %s were not looked up: %s", stop, what, plan.RoleNotAllowed(t.RoleArn))
			p.Ignore(ig, nil)
			continue
		}
		if inv.creds.Empty() {
			ig.Code, ig.Reason = result.CodeMissingCredentials, fmt.Sprintf("skipped (%s); %s were not looked up: the invocation carries no credentials", stop, what)
			p.Ignore(ig, nil)
			continue
		}
		r := h.newRun(inv)
		found, v, ok := r.SelectByTags(ctx, scope, tags, h.cfg.MaxInstances)
		h.logWarnings(inv, r.Warnings())
		switch {
		case !ok:
			ig.Code, ig.Reason = v.Code, fmt.Sprintf("skipped (%s); looking up %s did not succeed: %s", stop, what, v.Message)
			p.Ignore(ig, nil)
		case len(found) == 0:
			ig.Reason = fmt.Sprintf("skipped (%s); no instance carries %s", stop, what)
			p.Ignore(ig, nil)
		default:
			for _, in := range found {
				skip(scope, in.InstanceID)
			}
		}
	}
}
