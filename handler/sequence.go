package handler

import (
	"context"
	"fmt"

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
			// Planned, looked up read only, and reported Skipped:
			// the same path as a group carried out, with no start.
			needs, sk := h.planner().SkipGroup(p, sq, &inv.Invocation, m, i, stop, !inv.creds.Empty())
			sk.ApplySkip(h.lookUp(ctx, inv, needs))
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
