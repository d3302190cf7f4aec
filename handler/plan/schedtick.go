package plan

import (
	"fmt"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// This file is the plan's side of a schedule request (DESIGN §3.2): it is
// a tag selection by the tag key alone (any value), pending like one, read
// through the same lookup (Needs, the starter's LookUp, Apply), bounded by
// MAX_SCHEDULED instead of MAX_INSTANCES; what it found is judged by the
// tick (ScheduleTick.DecideAll) and only the due instances are committed,
// as a tag selection's instances are, so that the allow-lists, ALLOWED_TAG,
// AlreadyRunning without a call, wait and dry run apply to them unchanged.

// TickTime is the moment T of a schedule request in message m: the timer's
// triggerTime as sent (never clamped to now), else the invocation's start
// (DESIGN §3.2).
func TickTime(m events.Message, inv *Invocation) time.Time {
	if m.Trigger == events.Timer && !m.Time.IsZero() {
		return m.Time
	}
	return inv.Start
}

// HoldsMidnightUTC says whether the tick's window (T − Every, T] holds
// 00:00 UTC: the one tick a day in which an instance Rejected only for
// InvalidSchedule is a problem to notify (DESIGN §9). A preview has no
// window.
func (tk *ScheduleTick) HoldsMidnightUTC() bool {
	if tk.Every <= 0 {
		return false
	}
	t := tk.T.UTC()
	return t.Sub(t.Truncate(24*time.Hour)) < tk.Every
}

// acceptSchedule plans a valid schedule request (a target, with its outer
// fields) in scope for the tick at t: a pending selection of the
// instances that carry its tag key, whatever the value.
func (pl *Planner) acceptSchedule(p *Plan, m events.Message, src string, scope ecsapi.Scope, req events.StartRequest, t time.Time) {
	tk, err := NewScheduleTick(req, pl.Rules.Schedule, t)
	if err != nil {
		// The validators refuse what makes a tick fail; a request that
		// reaches here anyway is refused, never left undone silently.
		p.refuse(m, src, scope, req, []events.FieldError{{Field: req.FieldName("schedule"), Message: err.Error()}})
		return
	}
	mode := modeReal
	if req.DryRun {
		mode = modeDry
	}
	batch, _ := normalBatch(req.Batch())
	a := &accepted{M: m, Src: src, Scope: scope, req: req, mode: mode, batch: batch,
		Tags: []ecsapi.Tag{{Key: tk.TagKey, AnyValue: true}}, Selects: true, sched: tk}
	if req.Preview != "" {
		a.preview, _ = ParsePreview(req.Preview)
	}
	if role := req.RoleArn; role != "" && !pl.Rules.AllowedRoles[role] {
		// Nothing to look up without assuming the role, which is not
		// allowed: no STS call (DESIGN §3.1).
		p.Ignore(result.IgnoredEvent{Source: src, Code: result.CodeNotAllowed, Trigger: string(m.Trigger),
			Reason: fmt.Sprintf("the schedule tag key %s in %s was not looked up: %s", Quote(tk.TagKey), ecsapi.ScopeLabel(scope), pl.roleNotAllowed(role))}, nil)
		return
	}
	if d, on, _ := ParseWait(req.Wait); on && !req.DryRun && a.preview == 0 {
		a.Wait = d
	}
	p.Pending = append(p.Pending, a)
}

// applySchedule judges what the lookup of schedule request a found (f):
// a lookup that failed or read too many pages is Ignored as a tag
// selection's is (Unresolved when a retry can mend it); a key that no
// instance of the scope carries is an operator mistake where the operator
// wrote the payload (DESIGN §9); a preview lists every instance found;
// a tick rejects the invalid values (InvalidSchedule), counts Scheduled
// and Due, and commits the due instances, each with its ScheduledAt.
func (pl *Planner) applySchedule(p *Plan, a *accepted, f Selection) {
	tk := a.sched
	most := pl.Rules.maxScheduled()
	what := fmt.Sprintf("the schedule tag key %s in %s", Quote(tk.TagKey), ecsapi.ScopeLabel(a.Scope))
	ig := result.IgnoredEvent{Source: a.Src, Trigger: string(a.M.Trigger)}
	msg := f.Message
	if f.Code == result.CodeTooManyPages {
		msg = fmt.Sprintf("DescribeInstances answered %d pages and named another, more than the %d instances MAX_SCHEDULED lets a schedule read", ScheduledPages(most), most)
	}
	if p.ignoreUnlooked(ig, what, msg, f) {
		return
	}
	switch {
	case len(f.Found) > most:
		p.overMaxScheduled(a, f, ig, what, most)
		return
	case len(f.Found) == 0:
		ig.Reason = fmt.Sprintf("no instance carries %s: the schedule starts nothing", what)
		// A schedule whose key nobody carries starts nothing every
		// tick: an operator mistake where the operator wrote the
		// payload (DESIGN §9).
		ig.Mistake = OperatorWritten(a.M.Trigger)
		p.Ignore(ig, nil)
		return
	}
	if a.preview > 0 {
		p.addPreview(a, f)
		return
	}
	ds, _, due := tk.DecideAll(f.Found)
	p.countScheduled(a.Scope, ds)
	p.MidnightTick = p.MidnightTick || tk.HoldsMidnightUTC()
	a.IDs = make([]string, 0, due)
	a.Infos = make(map[string]ecsapi.InstanceInfo, due)
	a.scheduledAt = make(map[string]string, due)
	a.LookupID, a.settled = f.RequestID, f.Settled
	var invalid []string
	for _, d := range ds {
		id := d.Instance.InstanceID
		switch d.Verdict {
		case Due:
			a.IDs = append(a.IDs, id)
			a.Infos[id] = d.Instance
			a.scheduledAt[id] = d.ScheduledAtText()
		case ScheduleInvalid:
			// Reported one by one up to MAX_INSTANCES refusals, then
			// summed up (DESIGN §4: the answer stays bounded).
			if p.refused >= p.MaxInstances {
				invalid = append(invalid, id)
				continue
			}
			p.refused++
			e := p.Entry(a.Scope, id, a.M.Trigger)
			e.AddSource(a.Src)
			if e.fallback == nil {
				e.fallback = d.Rejection()
			}
		}
	}
	if len(invalid) > 0 {
		p.IgnoreCounted(result.IgnoredEvent{Source: a.Src, Trigger: string(a.M.Trigger), Code: result.CodeInvalidSchedule,
			Reason: fmt.Sprintf("%d more instances carry %s with a value that is no schedule, past the %d refusals one answer lists (MAX_INSTANCES)", len(invalid), what, p.MaxInstances)},
			invalid[:min(len(invalid), MaxListedIDs)], len(invalid))
	}
	if len(a.IDs) == 0 {
		// Nothing due: the request is carried out all the same.
		p.Requests++
		if a.mode == modeDry {
			p.DryRuns++
		}
		return
	}
	pl.Commit(p, a)
}

// countScheduled adds the instances of decisions ds (scope's) to
// Summary.Scheduled and Summary.Due, each instance once per invocation
// however many schedule requests found it (an array of ticks, two targets
// of one scope, a batch): the counts are of instances, as the report is.
func (p *Plan) countScheduled(scope ecsapi.Scope, ds []ScheduleDecision) {
	if p.scheduledSeen == nil {
		p.scheduledSeen = map[string]bool{}
	}
	for _, d := range ds {
		k := ecsapi.InstanceKey(scope, d.Instance.InstanceID)
		due, seen := p.scheduledSeen[k]
		if !seen {
			p.Scheduled++
		}
		if d.Verdict == Due && !due {
			p.Due++
		}
		p.scheduledSeen[k] = due || d.Verdict == Due
	}
}

// overMaxScheduled reports a schedule lookup that found more than
// MAX_SCHEDULED instances carrying the key: nothing of it is started, but
// the instances due in this tick are not dropped in silence (DESIGN §5):
// judged on what was read, counted, and named in the entry, as past
// MAX_INSTANCES.
func (p *Plan) overMaxScheduled(a *accepted, f Selection, ig result.IgnoredEvent, what string, most int) {
	ig.Code = result.CodeTooManyInstances
	if a.preview > 0 {
		ig.Reason = fmt.Sprintf("TooManyInstances: more than MAX_SCHEDULED (%d) instances carry %s; nothing of it was sent", most, what)
		p.Ignore(ig, nil)
		return
	}
	ds, _, due := a.sched.DecideAll(f.Found)
	p.countScheduled(a.Scope, ds)
	var ids []string
	for _, d := range ds {
		if d.Verdict == Due && len(ids) < MaxListedIDs {
			ids = append(ids, d.Instance.InstanceID)
		}
	}
	ig.Reason = fmt.Sprintf("TooManyInstances: more than MAX_SCHEDULED (%d) instances carry %s, %d of them due in this tick; nothing of it was sent", most, what, due)
	p.IgnoreCounted(ig, ids, due)
}

// addPreview adds what preview request a found (f) to the answer's
// Preview. A preview asked as a dry run (or under DRY_RUN_ONLY) is answered
// as one, as a dry tick with nothing due is.
func (p *Plan) addPreview(a *accepted, f Selection) {
	tk := a.sched
	if p.Preview == nil {
		p.Preview = &result.Preview{From: tk.T.Format(time.RFC3339), Period: a.req.Preview, Instances: []result.PreviewInstance{}}
	}
	p.Preview.Instances = append(p.Preview.Instances, tk.Preview(f.Found, a.preview, a.Scope.Account())...)
	p.Requests++
	if a.mode == modeDry {
		p.DryRuns++
	}
}
