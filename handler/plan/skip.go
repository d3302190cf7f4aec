package plan

import (
	"fmt"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Skip is a stopped sequence's later group waiting for its read-only
// lookups: what it does once they are known, in the order of its parts
// (ApplySkip).
type Skip struct {
	steps []func(f Facts)
}

// SkipGroup plans group i (message m) of sq after the sequence stopped
// (DESIGN §3.1), and lists the lookups it needs: each instance it names is
// Skipped (SequenceStopped); a selection by tags is looked up read only
// (no role that is not allowed is assumed) so that each instance it finds
// is reported Skipped too; a target or group that its own notAfter or
// skip dates leave out today is Ignored with that reason. Nothing is
// started. Past MAX_INSTANCES Skipped entries, the rest are counted on sq.
func (pl *Planner) SkipGroup(p *Plan, sq *Sequence, inv *Invocation, m events.Message, i int, stop string, haveCreds bool) (Needs, *Skip) {
	g, src := m.Request, sq.Src
	parts := []events.StartRequest{g}
	if g.Targets != nil {
		parts = make([]events.StartRequest, len(g.Targets))
		for j, t := range g.Targets {
			parts[j] = Inherit(g, g.RegionID, t)
		}
	}
	var n Needs
	sk := &Skip{}
	step := func(f func(Facts)) { sk.steps = append(sk.steps, f) }
	ignore := func(ig result.IgnoredEvent, ids []string) { step(func(Facts) { p.Ignore(ig, ids) }) }
	for j, t := range parts {
		scope := ecsapi.ScopeOf(t.RegionID, t.RoleArn)
		what := fmt.Sprintf("sequence[%d] in %s", i, ecsapi.ScopeLabel(scope))
		if g.Targets != nil {
			what = fmt.Sprintf("sequence[%d].targets[%d] in %s", i, j, ecsapi.ScopeLabel(scope))
		}
		if reason := pl.NotToday(m, t, inv.Start, what); reason != "" {
			ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, UniqueStrings(t.InstanceIDs))
			continue
		}
		ids := UniqueStrings(t.InstanceIDs)
		step(func(Facts) { p.skipIDs(sq, m, scope, ids, stop) })
		if len(t.InstanceIDs) > 0 || t.Tags == nil {
			continue
		}
		tags := TagPairs(t.Tags)
		what = fmt.Sprintf("the tags %s in %s", ecsapi.TagList(tags), ecsapi.ScopeLabel(scope))
		ig := result.IgnoredEvent{Source: src, Trigger: string(m.Trigger)}
		switch {
		case t.RoleArn != "" && !pl.Rules.AllowedRoles[t.RoleArn]:
			ig.Code, ig.Reason = result.CodeNotAllowed, fmt.Sprintf("skipped (%s); %s were not looked up: %s", stop, what, pl.roleNotAllowed(t.RoleArn))
			ignore(ig, nil)
			continue
		case !haveCreds:
			ig.Code, ig.Reason = result.CodeMissingCredentials, fmt.Sprintf("skipped (%s); %s were not looked up: the invocation carries no credentials", stop, what)
			ignore(ig, nil)
			continue
		}
		k := len(n.Selections)
		n.Selections = append(n.Selections, SelectNeed{Pending: -1, Scope: scope, Tags: tags, ReadOnly: true})
		step(func(f Facts) {
			s := f.Selections[k]
			switch {
			case !s.Done:
				ig.Code, ig.Reason = s.Code, fmt.Sprintf("skipped (%s); looking up %s did not succeed: %s", stop, what, s.Message)
				p.Ignore(ig, nil)
			case len(s.Found) == 0:
				ig.Reason = fmt.Sprintf("skipped (%s); no instance carries %s", stop, what)
				p.Ignore(ig, nil)
			default:
				found := make([]string, len(s.Found))
				for x, in := range s.Found {
					found[x] = in.InstanceID
				}
				p.skipIDs(sq, m, scope, found, stop)
			}
		})
	}
	return n, sk
}

// ApplySkip reports the skipped group on what its lookups said (f, for the
// Needs SkipGroup gave).
func (sk *Skip) ApplySkip(f Facts) {
	for _, s := range sk.steps {
		s(f)
	}
}

// skipIDs reports the instances ids of scope Skipped (SequenceStopped);
// one another request of the invocation names keeps its report.
func (p *Plan) skipIDs(sq *Sequence, m events.Message, scope ecsapi.Scope, ids []string, stop string) {
	for _, id := range ids {
		if e, ok := p.ByKey[ecsapi.InstanceKey(scope, id)]; ok {
			e.AddSource(sq.Src)
			continue // reported by another request of the invocation
		}
		if p.Skipped >= p.MaxInstances {
			sq.SkippedPast++
			if len(sq.SkippedIDs) < MaxListedIDs {
				sq.SkippedIDs = append(sq.SkippedIDs, id)
			}
			continue
		}
		p.Skipped++
		e := p.Entry(scope, id, m.Trigger)
		e.AddSource(sq.Src)
		e.Result = &result.InstanceResult{Outcome: result.Skipped, Code: result.CodeSequenceStopped, Message: "not sent: " + stop}
	}
}
